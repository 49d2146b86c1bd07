import type { AnyComponent } from 'preact';
import { BASE } from './base';
import { Overview } from './overview';

export { BASE };

/**
 * Every page of the console: its path (preact-iso patterns) and, for the
 * pages in the navigation, its label. Adding a page is a component in
 * pages/ and a line here.
 */
export interface PageEntry {
  path: string;
  nav?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  component: AnyComponent<any>;
}

export const PAGES: PageEntry[] = [{ path: `${BASE}/`, nav: 'Overview', component: Overview }];
