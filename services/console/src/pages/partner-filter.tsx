import type { Page as ApiPage, Partner } from '../api/types';
import { useApi } from '../ui/data';
import { Field } from '../ui/field';

/** A list's filter by partner: every partner by name, or all of them (''). */
export function PartnerFilter({ id, value, onChange }: { id: string; value: string; onChange: (id: string) => void }) {
  const partners = useApi<ApiPage<Partner>>('/partners?limit=500');
  return (
    <Field id={id} label="Partner">
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">every partner</option>
        {partners.data?.items.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
    </Field>
  );
}
