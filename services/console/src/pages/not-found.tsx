import { Page } from '../ui/page';
import { BASE } from './base';

export function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        There is no such page in the console. Go to the <a href={`${BASE}/`}>overview</a>.
      </p>
    </Page>
  );
}
