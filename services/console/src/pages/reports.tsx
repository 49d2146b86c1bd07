import { useState } from 'preact/hooks';
import { query } from '../api/client';
import { REPORT_KEYS, type Report, type ReportItem, type ReportKey } from '../api/types';
import { BarChart } from '../ui/chart';
import { Async, useApi } from '../ui/data';
import { describedBy, Field } from '../ui/field';
import { formatHour, formatMoney, formatNumber, formatPercent, TIME_ZONE } from '../ui/format';
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

const DAY_MS = 86_400_000;
/** YYYY-MM-DD of the day `days` from today, in the operator's zone. */
function localDay(days: number): string {
  const d = new Date(Date.now() + days * DAY_MS);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
/** The day after a YYYY-MM-DD day (date arithmetic only: no zone involved). */
const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
/**
 * Reports are kept per UTC hour, and geo and channel per UTC day only (ADR 0028): a report by either, or for an
 * operator whose zone is off UTC by part of an hour (India, Nepal…), is of UTC days.
 */
const PART_HOUR_ZONE = new Date().getTimezoneOffset() % 60 !== 0;
const utcOnly = (keys: readonly ReportKey[]) => PART_HOUR_ZONE || keys.some((k) => k === 'geo' || k === 'channel');

/** What one group is, in words: its keys' values. */
function groupName(item: ReportItem, keys: readonly ReportKey[]): string {
  return keys
    .map((k) => {
      if (k === 'day') return item.day!;
      if (k === 'hour') return formatHour(item.hour!);
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
  const [since, setSince] = useState(() => localDay(-29));
  const [until, setUntil] = useState(() => localDay(0));
  const [charted, setCharted] = useState<Charted>('leads');
  const keys = second && second !== first ? [first, second] : [first];
  // `until` is the day after the last one shown: the form asks for the last day, inclusive. Days are the
  // operator's own (tz), but for geo and channel, kept per UTC day.
  const end = /^\d{4}-\d{2}-\d{2}$/.test(until) ? nextDay(until) : until;
  const zone = utcOnly(keys) ? 'UTC' : TIME_ZONE;
  const params = { groupBy: keys.join(','), since, until: end, tz: zone === 'UTC' ? undefined : zone };
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
              if (key === 'hour') setSince(localDay(-1));
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
        <Field id="rep-since" label={`From (day in ${zone})`} error={sinceError}>
          <input
            type="date"
            value={since}
            onChange={(e) => setSince(e.currentTarget.value)}
            {...describedBy('rep-since', undefined, sinceError)}
          />
        </Field>
        <Field id="rep-until" label={`To (day in ${zone}, included)`} error={untilError}>
          <input
            type="date"
            value={until}
            onChange={(e) => setUntil(e.currentTarget.value)}
            {...describedBy('rep-until', undefined, untilError)}
          />
        </Field>
      </form>
      <p class="muted">
        {zone === 'UTC'
          ? `Days are UTC days${
              PART_HOUR_ZONE
                ? `: ${TIME_ZONE} is off UTC by part of an hour, and reports are kept per UTC hour`
                : utcOnly(keys)
                  ? ': geo and channel are kept per UTC day'
                  : ''
            }.`
          : `Days are days in ${zone}, hours shown in it.`}{' '}
        Lead figures count leads by their arrival; money, conversions and returns when they happened.
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
