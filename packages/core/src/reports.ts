// The shape of a report (README "Reports"; ADR 0028), shared by the rollups' statements (packages/db), the
// use case (packages/lifecycle) and the API's schemas (packages/api).

/** What a report can be grouped by. */
export const REPORT_KEYS = ['day', 'hour', 'source', 'partner', 'geo', 'channel'] as const;
export type ReportKey = (typeof REPORT_KEYS)[number];
/** The keys a source's own report may be grouped by: its figures by time, geo and channel. */
export const SOURCE_REPORT_KEYS = ['day', 'hour', 'geo', 'channel'] as const satisfies readonly ReportKey[];
/** At most this many keys in one report. */
export const MAX_REPORT_KEYS = 2;
/** The longest range a report covers. */
export const MAX_REPORT_DAYS = 400;
/** The longest range a report by hour covers: 744 hours a group key, not 9,600. */
export const MAX_HOURLY_REPORT_DAYS = 31;
/** The most groups a report answers (more is a 422: narrow the range or the grouping). */
export const MAX_REPORT_ITEMS = 20_000;
export const REPORT_FORMATS = ['json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The figures about leads, in both reports (their counts and the partners' events). */
const LEAD_REPORT_FIGURES = [
  'leads',
  'accepted',
  'duplicates',
  'sold',
  'unsold',
  'unmatched',
  'deadLettered',
  'converted',
  'returned',
  'reversed',
] as const;
/** The figures of an operator's report, in the answer's order (after the group's keys). */
export const ADMIN_REPORT_FIGURES = [
  ...LEAD_REPORT_FIGURES,
  'revenue',
  'cost',
  'margin',
  'conversionRate',
  'returnRate',
  'pings',
  'bids',
  'wins',
  'winRate',
  'averageBid',
] as const;
/**
 * The figures of a source's report: its leads, what it is paid, and its pings (ADR 0032: its bids are its payout
 * on the best bid); nothing of a partner.
 */
export const SOURCE_REPORT_FIGURES = [
  ...LEAD_REPORT_FIGURES,
  'payout',
  'conversionRate',
  'returnRate',
  'pings',
  'bids',
  'posted',
  'winRate',
  'averageBid',
] as const;
