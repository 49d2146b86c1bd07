import { useState } from 'preact/hooks';
import { query } from '../api/client';
import { REPORT_KEYS, type Report, type ReportItem, type ReportKey } from '../api/types';
import { BarChart } from '../ui/chart';
import { Async, useApi } from '../ui/data';
import { describedBy, Field } from '../ui/field';
import { formatMoney, formatNumber, formatPercent } from '../ui/format';
import { Page, Section, TableWrap } from '../ui/page';

/** The figures a report shows, in its columns' order; money is exact text. */
const COUNTS = ['leads', 'accepted', 'sold', 'unsold', 'unmatched', 'deadLettered', 'converted', 'returned'] as const;
const MONEY = ['revenue', 'cost', 'margin'] as const;
const LABELS: Record<string, string> = {
  leads: 'Leads',
  accepted: 'Accepted',
  sold: 'Sold',
  unsold: 'Unsold',
  unmatched: 'Unmatched',
  deadLettered: 'Dead-lettered',
  converted: 'Converted',
  returned: 'Returned',
  revenue: 'Revenue',
  cost: 'Cost',
  margin: 'Margin',
  conversionRate: 'Conversion',
  returnRate: 'Returns',
};
const CHARTED = ['leads', 'sold', 'revenue', 'margin'] as const;
type Charted = (typeof CHARTED)[number];

/** YYYY-MM-DD of a day `days` from today (UTC: the report's days are UTC days). */
const utcDay = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** What one group is, in words: its keys' values. */
function groupName(item: ReportItem, keys: readonly ReportKey[]): string {
  return keys
    .map((k) => {
      if (k === 'day') return item.day!;
      if (k === 'hour') return `${item.hour!.slice(0, 13).replace('T', ' ')}:00 UTC`;
      if (k === 'source') return item.source?.name ?? '(deleted source)';
      if (k === 'partner') return item.partner === null ? '(no partner)' : (item.partner?.name ?? '(deleted partner)');
      const v = item[k];
      return v ?? `(no ${k})`;
    })
    .join(' · ');
}

/**
 * Reports (ADR 0028): leads, sales, conversions, returns and money per day or hour, source, partner, geo or
 * channel, from the API's rollups; a chart of one figure over the groups, the table, and the same report as CSV.
 */
export function Reports() {
  const [first, setFirst] = useState<ReportKey>('day');
  const [second, setSecond] = useState<ReportKey | ''>('');
  const [since, setSince] = useState(() => utcDay(-29));
  const [until, setUntil] = useState(() => utcDay(0));
  const [charted, setCharted] = useState<Charted>('leads');
  const keys = second && second !== first ? [first, second] : [first];
  // `until` is the day after the last one shown: the form asks for the last day, inclusive.
  const end = /^\d{4}-\d{2}-\d{2}$/.test(until)
    ? new Date(Date.parse(`${until}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
    : until;
  const params = { groupBy: keys.join(','), since, until: end };
  const report = useApi<Report>(`/reports${query(params)}`);
  const csv = `/v1/admin/reports${query({ ...params, format: 'csv' })}`;
  const error = report.error;
  const sinceError = error?.forField('since');
  const untilError = error?.forField('until');
  const groupError = error?.forField('groupBy');
  return (
    <Page
      title="Reports"
      actions={
        <a class="button" href={csv} download>
          Download CSV
        </a>
      }
    >
      <form class="panel filters" aria-label="Report" onSubmit={(e) => e.preventDefault()}>
        <Field id="rep-by" label="Group by" error={groupError}>
          <select
            value={first}
            onChange={(e) => {
              const key = e.currentTarget.value as ReportKey;
              setFirst(key);
              // By hour, the API covers a few days at most: start with the last two.
              if (key === 'hour') setSince(utcDay(-1));
            }}
            {...describedBy('rep-by', undefined, groupError)}
          >
            {REPORT_KEYS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </Field>
        <Field id="rep-then" label="Then by">
          <select value={second} onChange={(e) => setSecond(e.currentTarget.value as ReportKey | '')} id="rep-then">
            <option value="">nothing</option>
            {REPORT_KEYS.filter((k) => k !== first).map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </Field>
        <Field id="rep-since" label="From (UTC day)" error={sinceError}>
          <input
            type="date"
            value={since}
            onChange={(e) => setSince(e.currentTarget.value)}
            {...describedBy('rep-since', undefined, sinceError)}
          />
        </Field>
        <Field id="rep-until" label="To (UTC day, included)" error={untilError}>
          <input
            type="date"
            value={until}
            onChange={(e) => setUntil(e.currentTarget.value)}
            {...describedBy('rep-until', undefined, untilError)}
          />
        </Field>
      </form>
      <p class="muted">
        Days and hours are UTC, as the rollups keep them. Lead figures count leads by their arrival; money, conversions
        and returns when they happened.
      </p>
      <Async
        state={report}
        what="the report"
        isEmpty={(r) => r.items.length === 0}
        empty="Nothing happened in this range."
      >
        {(r) => (
          <>
            <Section title="Chart">
              <Field id="rep-chart" label="Figure">
                <select value={charted} onChange={(e) => setCharted(e.currentTarget.value as Charted)} id="rep-chart">
                  {CHARTED.map((k) => (
                    <option key={k} value={k}>
                      {LABELS[k]}
                    </option>
                  ))}
                </select>
              </Field>
              <BarChart
                bars={r.items.map((item, i) => ({ at: String(i), value: Number(item[charted]) }))}
                label={`${LABELS[charted]} by ${keys.join(' and ')}`}
                unit={MONEY.includes(charted as (typeof MONEY)[number]) ? '' : 'leads'}
                per="group"
                name={(at) => groupName(r.items[Number(at)]!, keys)}
                show={(v) => formatNumber(Math.round(v * 100) / 100)}
              />
            </Section>
            <ReportTable report={r} keys={keys} />
          </>
        )}
      </Async>
    </Page>
  );
}

function ReportTable({ report, keys }: { report: Report; keys: readonly ReportKey[] }) {
  const rate = (v: number | null) => (v == null ? '—' : formatPercent(v));
  return (
    <TableWrap label="Report table">
      <table class="report">
        <thead>
          <tr>
            <th scope="col">{keys.join(' · ')}</th>
            {COUNTS.map((k) => (
              <th key={k} scope="col" class="num">
                {LABELS[k]}
              </th>
            ))}
            {MONEY.map((k) => (
              <th key={k} scope="col" class="num">
                {LABELS[k]}
              </th>
            ))}
            <th scope="col" class="num">
              {LABELS.conversionRate}
            </th>
            <th scope="col" class="num">
              {LABELS.returnRate}
            </th>
          </tr>
        </thead>
        <tbody>
          {report.items.map((item, i) => (
            <tr key={i}>
              <th scope="row">{groupName(item, keys)}</th>
              {COUNTS.map((k) => (
                <td key={k} class="num">
                  {formatNumber(item[k])}
                </td>
              ))}
              {MONEY.map((k) => (
                <td key={k} class="num">
                  {formatMoney(item[k])}
                </td>
              ))}
              <td class="num">{rate(item.conversionRate)}</td>
              <td class="num">{rate(item.returnRate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
