import { formatDateTime, TIME_ZONE } from './format';

/** An instant, shown in the operator's time zone; the machine-readable value stays in `datetime`. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={`${iso} (shown in ${TIME_ZONE})`}>
      {formatDateTime(iso)}
    </time>
  );
}
