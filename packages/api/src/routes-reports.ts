/**
 * The route table's reports (README "Reports"; ADR 0028): an operator's, and a source's own. Read from the
 * rollups, never the lead tables; the logic is @leadrouter/lifecycle's (parseReport, adminReport,
 * sourceReport), shared with `leadrouter report`.
 */
import {
  MAX_HOURLY_REPORT_DAYS,
  MAX_REPORT_DAYS,
  MAX_REPORT_ITEMS,
  MAX_REPORT_KEYS,
  OneOf,
  REPORT_FORMATS,
  Type,
} from '@leadrouter/core';
import { REPORT_CSV_EXAMPLE, REPORT_EXAMPLE, Report, SourceReport } from './answers-reports.js';
import { route } from './table.js';

const timeParam = (what: string, fallback: string) =>
  Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 40,
      description: `${what}: a date (\`2026-12-01\`, its midnight in \`tz\`: UTC unless given) or an ISO 8601 date-time with a zone, on a whole UTC hour (a whole day when grouping by day, geo or channel); default: ${fallback}`,
    }),
  );

const query = (keys: string, example: string) =>
  Type.Object({
    groupBy: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: `one or ${MAX_REPORT_KEYS} of ${keys}, comma-separated, e.g. \`${example}\` (default \`day\`); hour goes with neither day, geo nor channel`,
        example,
      }),
    ),
    since: timeParam('the first instant covered', '30 days before `until` (by hour: 2 days)'),
    until: timeParam('the instant after the last covered', 'the end of today (in `tz`)'),
    format: Type.Optional(
      OneOf(REPORT_FORMATS, { default: 'json', description: '`csv`: the same columns as CSV, then `currency`' }),
    ),
    tz: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: `an IANA time zone name (\`America/New_York\`): the days are its days, made of the UTC hours of each local date (a day its clocks change has 23 or 25), and dates in \`since\`/\`until\` are its midnights. A zone off UTC in the range takes neither geo nor channel (kept per UTC day) nor a zone off by part of an hour (\`Asia/Kolkata\`), and covers at most ${MAX_HOURLY_REPORT_DAYS} days; default UTC`,
        example: 'America/New_York',
      }),
    ),
  });

const contentDisposition = {
  'Content-Disposition': {
    description: 'with `format=csv`: `attachment` with a file name naming the range and grouping',
    schema: { type: 'string' },
  },
};

const rules = [
  `Days are UTC days unless \`tz\` names a zone; hours are UTC hours (their start as an instant); \`since\` ≤ time < \`until\`, at most ${MAX_REPORT_DAYS} days (by hour, or in a zone off UTC: ${MAX_HOURLY_REPORT_DAYS}); at most ${MAX_REPORT_ITEMS.toLocaleString('en')} groups.`,
  'Lead figures (`leads`, `accepted`, `duplicates`, `sold`, `unsold`, `unmatched`, `deadLettered`) count leads by their arrival, in the outcome they have now; conversions, returns, reversals and money are counted when they happened.',
  'Every problem of the parameters is listed in one `422` (unknown parameters too).',
].join(' ');

export const getReport = route({
  method: 'get',
  path: '/v1/admin/reports',
  party: 'admin',
  operationId: 'getReport',
  tag: 'Reports',
  summary: 'Leads, sales, conversions, returns and money, grouped',
  description: `Figures per group of up to ${MAX_REPORT_KEYS} keys — \`day\` or \`hour\`, \`source\`, \`partner\`, \`geo\`, \`channel\` — from the rollups kept as events happen (never a scan of the leads), as JSON or CSV. ${rules} Grouped by partner, a partner’s \`sold\` is its sales; the group with \`partner: null\` has the leads’ own figures. Not grouped by partner, \`sold\` counts leads (one bought by two partners is one sale) and \`converted\`, \`returned\`, \`reversed\` the partners’ events.`,
  query: query('day, hour, source, partner, geo, channel', 'day,partner'),
  answers: {
    200: {
      description: 'The report.',
      schema: Report,
      example: REPORT_EXAMPLE,
      text: {
        mediaType: 'text/csv',
        description:
          "With `format=csv`: one header row (the keys, a source or partner as `.id` and `.name`, then the figures), a row per group, CRLF line ends, RFC 4180 quoting; a name or channel a spreadsheet would read as a formula starts with `'`.",
        example: REPORT_CSV_EXAMPLE,
      },
      headers: contentDisposition,
    },
    422: 'Invalid',
  },
});

export const getSourceReport = route({
  method: 'get',
  path: '/v1/reports',
  party: 'source',
  operationId: 'getSourceReport',
  tag: 'Leads',
  summary: 'Your leads and payouts, grouped',
  description: `With your API key: your leads and what you are paid for them, per \`day\` or \`hour\`, \`geo\`, \`channel\` (up to ${MAX_REPORT_KEYS}), as JSON or CSV. ${rules}`,
  query: query('day, hour, geo, channel', 'day,geo'),
  answers: {
    200: {
      description: 'Your report.',
      schema: SourceReport,
      text: { mediaType: 'text/csv', description: 'With `format=csv`: the same columns as CSV.' },
      headers: contentDisposition,
    },
    401: 'Unauthorized',
    422: 'Invalid',
    429: 'RateLimited',
  },
});
