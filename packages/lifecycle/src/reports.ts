import {
  ADMIN_REPORT_FIGURES,
  MAX_HOURLY_REPORT_DAYS,
  MAX_REPORT_DAYS,
  MAX_REPORT_ITEMS,
  MAX_REPORT_KEYS,
  REPORT_KEYS,
  SOURCE_REPORT_FIGURES,
  SOURCE_REPORT_KEYS,
  checkQuery,
  invalid,
  type FieldError,
  type ReportFormat,
  type ReportKey,
} from '@leadrouter/core';
import { reportStatement, runStatement, sqlPool, type Db, type ReportRow, type ReportTable } from '@leadrouter/db';
import { amount, formatAmount } from '@leadrouter/money';
import { reports, type QueryOf } from '@leadrouter/api';
import { readParams, type RawParams } from './params.js';

// Reports (README "Reports"; ADR 0028): figures per day, hour, source, partner, geo and channel, read from the
// rollups (report_daily, report_hourly and the lead figures on their way, report_deltas), for the admin API,
// the source's own `GET /v1/reports` and `leadrouter report`. Days are UTC days, or the days of the zone `tz`
// names, made of UTC hours.

/** The range a report covers when not told: the 30 UTC days up to the end of today (by hour: the 2 days). */
export const DEFAULT_REPORT_DAYS = 30;
export const DEFAULT_HOURLY_REPORT_DAYS = 2;
/** Who reads the report: an operator (everything), or a source (its own leads and payouts). */
export type ReportView = 'admin' | 'source';

export interface ReportQuery {
  view: ReportView;
  /** The group's keys, in the order asked (the answer's order). */
  keys: ReportKey[];
  /** The rollup read: per day unless grouped by hour, or over a range of whole hours that are not whole days. */
  table: ReportTable;
  /** since <= time < until: whole UTC days (daily) or hours (hourly). */
  since: Date;
  until: Date;
  format: ReportFormat;
  /** The time zone its days are of, as asked (`UTC` when not). */
  tz: string;
  /** The zone the statement takes a day of an hour in: `tz`, or `UTC` when it is at UTC all the range long. */
  dayZone: string;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
const startOfUtcDay = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;

/**
 * A time zone, for the days of a report: its offset from UTC at any instant, from the runtime's own time-zone
 * data (Intl). The reports' rollups keep UTC hours, so a day of a zone is the UTC hours of its local date.
 */
export class ReportZone {
  private constructor(
    readonly name: string,
    private readonly format: Intl.DateTimeFormat,
  ) {}

  private static readonly known = new Map<string, ReportZone>();
  /** An IANA name (`Europe/Paris`, `Etc/GMT+5`): not an offset, which PostgreSQL would read the other way. */
  private static readonly NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;
  static readonly UTC = ReportZone.of('UTC')!;

  /** The zone of an IANA name, or undefined for a name that is not one. */
  static of(name: string): ReportZone | undefined {
    if (!ReportZone.NAME.test(name)) return undefined;
    let zone = ReportZone.known.get(name);
    if (!zone) {
      try {
        zone = new ReportZone(
          name,
          new Intl.DateTimeFormat('en-US', {
            timeZone: name,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            second: 'numeric',
          }),
        );
      } catch {
        return undefined;
      }
      // Only names the runtime knows are kept: a few hundred at most.
      ReportZone.known.set(name, zone);
    }
    return zone;
  }

  /** Its offset from UTC at `ms`, in milliseconds (New York in winter: -5 h). */
  offset(ms: number): number {
    const part = Object.fromEntries(this.format.formatToParts(new Date(ms)).map((p) => [p.type, Number(p.value)]));
    const local = Date.UTC(part.year!, part.month! - 1, part.day, part.hour, part.minute, part.second);
    return local - Math.floor(ms / 1000) * 1000;
  }

  /** The instant its local date `day` (`2026-03-08`, or that date's UTC midnight in ms) begins. */
  midnight(day: string | number): number {
    const utc = typeof day === 'number' ? day : Date.parse(`${day}T00:00:00Z`);
    return utc - this.offset(utc - this.offset(utc));
  }

  /** Its local date at `ms`, as the UTC midnight of that date. */
  date(ms: number): number {
    return startOfUtcDay(ms + this.offset(ms));
  }

  /** Whether `ms` is one of its midnights. */
  isMidnight(ms: number): boolean {
    return (ms + this.offset(ms)) % DAY_MS === 0;
  }
}

/** A report's time bound: a date (its midnight in the report's zone) or a date-time with a zone. */
function readTime(v: string | undefined, name: string, zone: ReportZone, problems: FieldError[]): Date | undefined {
  if (v === undefined) return undefined;
  const ms =
    DATE_ONLY.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))
      ? zone.midnight(v)
      : DATE_TIME.test(v)
        ? Date.parse(v)
        : NaN;
  if (Number.isNaN(ms)) {
    problems.push({
      field: name,
      message: `must be a date (2026-01-31, a ${zone === ReportZone.UTC ? 'UTC day' : `day in ${zone.name}`}) or an ISO 8601 date-time with a zone (2026-01-31T10:00:00Z)`,
    });
    return undefined;
  }
  return new Date(ms);
}

/** `tz`: an IANA time zone name; UTC when not given. */
function readZone(v: string | undefined, problems: FieldError[]): ReportZone {
  if (v === undefined) return ReportZone.UTC;
  const zone = ReportZone.of(v);
  if (!zone)
    problems.push({ field: 'tz', message: 'must be an IANA time zone name, e.g. America/New_York or Europe/Paris' });
  return zone ?? ReportZone.UTC;
}

/**
 * Whether the zone is off UTC anywhere from `since` to `until` (looked at each day, and at `until`), and the
 * first place it is off by a part of an hour, if any (India, Nepal, Newfoundland…): its days cannot be made of
 * UTC hours.
 */
function zoneOverRange(zone: ReportZone, since: number, until: number): { offUtc: boolean; partHour?: number } {
  let offUtc = false;
  for (let at = since, n = 0; n <= MAX_REPORT_DAYS + 1; at = Math.min(at + DAY_MS, until), n++) {
    const offset = zone.offset(at);
    if (offset % HOUR_MS !== 0) return { offUtc: true, partHour: at };
    if (offset !== 0) offUtc = true;
    if (at >= until) break;
  }
  return { offUtc };
}

/** `groupBy`: one or two keys, each once, that a rollup holds together; every problem found. */
function readKeys(v: string | undefined, view: ReportView, problems: FieldError[]): ReportKey[] | undefined {
  if (v === undefined) return v;
  const allowed: readonly ReportKey[] = view === 'admin' ? REPORT_KEYS : SOURCE_REPORT_KEYS;
  const parts = v.split(',').map((s) => s.trim());
  const found: string[] = [];
  const unknown = parts.filter((p) => !allowed.includes(p as ReportKey));
  if (unknown.length > 0) {
    const partyKeys: string[] = view === 'source' ? unknown.filter((p) => p === 'source' || p === 'partner') : [];
    if (partyKeys.length > 0) found.push('a source’s report holds its own figures only: no source or partner');
    const others = unknown.filter((p) => !partyKeys.includes(p));
    if (others.length > 0)
      found.push(`${others.map((o) => JSON.stringify(o)).join(', ')} is not a grouping (use ${allowed.join(', ')})`);
  }
  const keys = parts.filter((p): p is ReportKey => allowed.includes(p as ReportKey));
  if (new Set(keys).size < keys.length) found.push('names a key twice');
  if (parts.length > MAX_REPORT_KEYS) found.push(`takes at most ${MAX_REPORT_KEYS} keys, e.g. day,partner`);
  if (keys.includes('day') && keys.includes('hour')) found.push('takes day or hour, not both (an hour names its day)');
  if (keys.includes('hour') && (keys.includes('geo') || keys.includes('channel')))
    found.push('cannot put hour with geo or channel: hourly figures are kept per source and partner only');
  for (const message of found) problems.push({ field: 'groupBy', message });
  return found.length > 0 ? undefined : [...new Set(keys)];
}

/** A report's parameters, as its route's schema accepted them (an operator's and a source's are alike). */
export type ReportParams = QueryOf<typeof reports.getReport>;

/**
 * A report's parameters: `groupBy` (default `day`), `since` and `until` (dates, or date-times with a zone; by
 * default the 30 UTC days up to the end of today, by hour the 2; at most MAX_REPORT_DAYS apart, by hour
 * MAX_HOURLY_REPORT_DAYS), `format` (`json`, `csv`), `tz`, as their schema accepted them; what it cannot state
 * (the keys that go together, the zone, the range and its units) is checked here, each problem added to
 * `problems`. The range is of whole UTC hours, and of whole UTC days when grouped by day, geo or channel (the
 * rollups' own units).
 */
export function readReport(params: ReportParams, view: ReportView, now: Date, problems: FieldError[]): ReportQuery {
  const keys = readKeys(params.groupBy, view, problems);
  // A `groupBy` the schema refused (too long) says nothing of the keys, as one the reader refused.
  const keysGiven = params.groupBy !== undefined || problems.some((p) => p.field === 'groupBy');
  const zone = readZone(params.tz, problems);
  const sinceGiven = readTime(params.since, 'since', zone, problems);
  const untilGiven = readTime(params.until, 'until', zone, problems);
  const format = params.format ?? 'json';
  const until = untilGiven ?? new Date(zone.midnight(zone.date(now.getTime()) + DAY_MS));
  const hourly = keys?.includes('hour') === true;
  const since =
    sinceGiven ??
    new Date(
      zone.midnight(
        zone.date(until.getTime() - 1) + DAY_MS - (hourly ? DEFAULT_HOURLY_REPORT_DAYS : DEFAULT_REPORT_DAYS) * DAY_MS,
      ),
    );
  const grouped = keys ?? ['day'];
  // Keys with problems of their own say nothing of the range's unit: only whole hours are checked then.
  const keysOk = !keysGiven || keys !== undefined;
  // A zone off UTC in the range: its days are made of the hourly rollup's UTC hours (ADR 0028).
  const { offUtc, partHour } =
    since.getTime() < until.getTime() ? zoneOverRange(zone, since.getTime(), until.getTime()) : { offUtc: false };
  const placeKeys = grouped.filter((k) => k === 'geo' || k === 'channel');
  if (partHour !== undefined)
    problems.push({
      field: 'tz',
      message: `is ${formatOffset(zone.offset(partHour))} off UTC on ${new Date(zone.date(partHour)).toISOString().slice(0, 10)}, not whole hours: reports are kept per UTC hour, so its days cannot be made of them (leave tz out for UTC days)`,
    });
  else if (offUtc && keysOk && placeKeys.length > 0)
    problems.push({
      field: 'tz',
      message: `cannot go with ${placeKeys.join(' or ')}: the days of a zone off UTC are made of hourly figures, kept per source and partner only (leave tz out for UTC days)`,
    });
  const byDay = keysOk && grouped.some((k) => k === 'day' || k === 'geo' || k === 'channel');
  const wholeDays = zone.isMidnight(since.getTime()) && zone.isMidnight(until.getTime());
  const dayName = offUtc ? `day in ${zone.name}` : 'UTC day';
  const bound = (field: 'since' | 'until', at: Date, given: Date | undefined): FieldError[] => {
    if (!given) return [];
    if (at.getTime() % HOUR_MS !== 0)
      return [
        { field, message: 'must be a whole UTC hour (the reports are kept per hour), e.g. 2026-01-31T10:00:00Z' },
      ];
    if (byDay && !zone.isMidnight(at.getTime()))
      return [
        {
          field,
          message: `must be a whole ${dayName} (2026-01-31) when grouping by day, geo or channel (kept per ${dayName})`,
        },
      ];
    return [];
  };
  // A zone's part of an hour makes its midnights parts of UTC hours: the zone's error says what is wrong.
  if (partHour === undefined) problems.push(...bound('since', since, sinceGiven), ...bound('until', until, untilGiven));
  const byHour = keysOk && grouped.includes('hour');
  const maxDays = byHour || offUtc ? MAX_HOURLY_REPORT_DAYS : MAX_REPORT_DAYS;
  // Days as the zone counts them: a day a clock changes is one day, of 23 or 25 hours.
  const days =
    (until.getTime() + zone.offset(until.getTime()) - since.getTime() - zone.offset(since.getTime())) / DAY_MS;
  if (since.getTime() >= until.getTime()) problems.push({ field: 'until', message: 'must be later than since' });
  else if (days > maxDays)
    problems.push({
      field: 'since',
      message: `a report ${byHour ? 'by hour ' : offUtc ? `in ${zone.name} ` : ''}covers at most ${maxDays} days; since to until is ${Math.ceil(days)}`,
    });
  return {
    view,
    keys: grouped,
    table: offUtc || grouped.includes('hour') || (!byDay && !wholeDays) ? 'hourly' : 'daily',
    since,
    until,
    format,
    tz: zone.name,
    dayZone: offUtc ? zone.name : 'UTC',
  };
}

/** A report's parameters as given (text: a query, the CLI's options), validated by its route's schema, then read. */
export function parseReport(raw: RawParams, view: ReportView, now: Date): ReportQuery {
  const schema = view === 'admin' ? reports.getReport.query : reports.getSourceReport.query;
  const { value, problems } = readParams<ReportParams>(schema, raw);
  const query = readReport(value, view, now, problems);
  checkQuery(schema, problems);
  return query;
}

/** `+05:30`, `-03:30`: an offset in hours and minutes. */
function formatOffset(ms: number): string {
  const minutes = Math.abs(ms) / 60_000;
  return `${ms < 0 ? '-' : '+'}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** A party of a report's group: its id and name (null when it was deleted since). */
export interface ReportParty {
  id: string;
  name: string | null;
}

/** The keys of a report's group, as answered: those asked for only. */
export interface ReportKeys {
  day?: string;
  hour?: string;
  source?: ReportParty;
  /** null: what belongs to no partner (the leads' own figures, source adjustments). */
  partner?: ReportParty | null;
  /** null: leads without one. */
  geo?: string | null;
  channel?: string | null;
}

export interface LeadFigures {
  leads: number;
  accepted: number;
  duplicates: number;
  sold: number;
  unsold: number;
  unmatched: number;
  deadLettered: number;
  converted: number;
  returned: number;
  reversed: number;
  /** converted / sold, to 4 places; null when nothing was sold. */
  conversionRate: number | null;
  /** returned / sold, to 4 places; null when nothing was sold. */
  returnRate: number | null;
}

/** A group of an operator's report. Money is exact decimal text (`12.5000`), in CURRENCY. */
export type AdminReportItem = ReportKeys &
  LeadFigures & {
    revenue: string;
    cost: string;
    margin: string;
    /**
     * A partner's group: pings it was asked (or bid its fixed price in), bids, auctions its bid was the best of.
     * The no-partner group, and a report not grouped by partner: the sources' pings, those answered with a bid,
     * and the leads posted against them (ADR 0032).
     */
    pings: number;
    bids: number;
    wins: number;
    /** wins / bids, to 4 places; null without bids. */
    winRate: number | null;
    /** The bids' average, exact text to 4 places (a source's: its payout on the best bid); null without bids. */
    averageBid: string | null;
  };

/**
 * A group of a source's own report: no partner, no revenue, no margin; `payout` is what it is paid. Its pings,
 * those answered with a bid, the leads it posted against them, posted / bids, and the average of its bids (its
 * payout on the best bid; never a buyer's).
 */
export type SourceReportItem = Omit<ReportKeys, 'source' | 'partner'> &
  LeadFigures & {
    payout: string;
    pings: number;
    bids: number;
    posted: number;
    winRate: number | null;
    averageBid: string | null;
  };

const rate = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000);
const money = (text: string) => formatAmount(amount(text));

/** A group's ping figures: counts, wins / bids, and the bids' average (exact, to 4 places). */
function pingFigures(row: ReportRow): {
  pings: number;
  bids: number;
  wins: number;
  winRate: number | null;
  averageBid: string | null;
} {
  const [pings, bids, wins] = [Number(row.pings), Number(row.bids), Number(row.wins)];
  const averageBid = bids === 0 ? null : formatAmount(amount(row.bidTotal).div(amount(String(bids))));
  return { pings, bids, wins, winRate: rate(wins, bids), averageBid };
}

function keysOf(q: ReportQuery, row: ReportRow): ReportKeys {
  const out: ReportKeys = {};
  for (const key of q.keys) {
    if (key === 'day') out.day = row.day!;
    else if (key === 'hour') out.hour = row.hour!.toISOString();
    else if (key === 'source') out.source = { id: row.sourceId!, name: row.sourceName };
    else if (key === 'partner')
      out.partner = row.partnerId === null ? null : { id: row.partnerId, name: row.partnerName };
    else if (key === 'geo') out.geo = row.geo || null;
    else out.channel = row.channel || null;
  }
  return out;
}

function leadFigures(row: ReportRow): Omit<LeadFigures, 'conversionRate' | 'returnRate'> {
  return {
    leads: Number(row.leads),
    accepted: Number(row.accepted),
    duplicates: Number(row.duplicates),
    sold: Number(row.sold),
    unsold: Number(row.unsold),
    unmatched: Number(row.unmatched),
    deadLettered: Number(row.deadLettered),
    converted: Number(row.converted),
    returned: Number(row.returned),
    reversed: Number(row.reversed),
  };
}

/**
 * The report's rows; more than MAX_REPORT_ITEMS groups is a 422 (an answer that size is no report anyone
 * reads, and would hold tens of MB in the process).
 */
async function rowsOf(db: Db, q: ReportQuery, sourceId: string | null): Promise<ReportRow[]> {
  const rows = await runStatement(sqlPool(db), reportStatement(q.table, q.keys), {
    since: q.since,
    until: q.until,
    sourceId,
    limit: MAX_REPORT_ITEMS + 1,
    tz: q.dayZone,
  }).catch((err: unknown) => {
    // A zone this runtime knows and PostgreSQL's time-zone data does not (a newer one): 22023.
    if ((err as { code?: string }).code === '22023' && /time zone/i.test(String(err)))
      throw invalid([{ field: 'tz', message: `is a time zone PostgreSQL does not know: ${q.tz}` }]);
    throw err;
  });
  if (rows.length > MAX_REPORT_ITEMS)
    throw invalid([
      {
        field: 'groupBy',
        message: `the report has more than ${MAX_REPORT_ITEMS} groups: narrow since–until or group by fewer keys`,
      },
    ]);
  return rows;
}

/** An operator's report: every source and partner. */
export async function adminReport(db: Db, q: ReportQuery): Promise<AdminReportItem[]> {
  return (await rowsOf(db, q, null)).map((row) => {
    const f = leadFigures(row);
    return {
      ...keysOf(q, row),
      ...f,
      revenue: money(row.revenue),
      cost: money(row.cost),
      margin: money(row.margin),
      conversionRate: rate(f.converted, f.sold),
      returnRate: rate(f.returned, f.sold),
      ...pingFigures(row),
    };
  });
}

/** A source's own report: its leads, and what it is paid (the cost side of its leads' money). */
export async function sourceReport(db: Db, q: ReportQuery, sourceId: string): Promise<SourceReportItem[]> {
  return (await rowsOf(db, q, sourceId)).map((row) => {
    const f = leadFigures(row);
    return {
      ...(keysOf(q, row) as Omit<ReportKeys, 'source' | 'partner'>),
      ...f,
      payout: money(row.cost),
      conversionRate: rate(f.converted, f.sold),
      returnRate: rate(f.returned, f.sold),
      ...sourcePings(pingFigures(row)),
    };
  });
}

/** A source's own ping figures: its rows' `wins` are the leads it posted against its pings. */
function sourcePings({ wins, ...f }: ReturnType<typeof pingFigures>) {
  return { pings: f.pings, bids: f.bids, posted: wins, winRate: f.winRate, averageBid: f.averageBid };
}

/** The columns of a report's CSV: the keys (a party as its id and name), then the figures, as in the JSON. */
export function reportColumns(q: ReportQuery): string[] {
  const keyColumns = q.keys.flatMap((k) => (k === 'source' || k === 'partner' ? [`${k}.id`, `${k}.name`] : [k]));
  return [...keyColumns, ...(q.view === 'admin' ? ADMIN_REPORT_FIGURES : SOURCE_REPORT_FIGURES)];
}

/** Text a spreadsheet would run as a formula (CSV injection): a name or a channel is anyone's text. */
const FORMULA = /^[=+\-@\t\r]/;

/**
 * A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled; text that a
 * spreadsheet would read as a formula gets a leading `'` (names and channels come from outside; figures are
 * numbers and never get one).
 */
export function csvField(value: string | number | null | undefined, text: boolean): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (text && FORMULA.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A report as CSV: one header row, then a row per group, lines ended by CRLF (RFC 4180). The columns are the
 * JSON items', then `currency` (the JSON's is the report's, beside its items; a CSV has no place but a column).
 */
export function reportCsv(
  q: ReportQuery,
  items: readonly (AdminReportItem | SourceReportItem)[],
  currency: string,
): string {
  const columns = reportColumns(q);
  const lines = [[...columns, 'currency'].join(',')];
  for (const item of items) {
    const cells = columns.map((c) => {
      const [key, part] = c.split('.') as [string, 'id' | 'name' | undefined];
      const v = (item as unknown as Record<string, unknown>)[key];
      if (part) return csvField(v === null || v === undefined ? null : (v as ReportParty)[part], true);
      return csvField(v as string | number | null | undefined, key === 'geo' || key === 'channel');
    });
    lines.push([...cells, currency].join(','));
  }
  return lines.map((l) => `${l}\r\n`).join('');
}

/**
 * The CSV's file name: `leadrouter-report-<since>-<until>-<keys>.csv`, UTC days or hours, or the days of the
 * report's zone.
 */
export function reportFileName(q: ReportQuery): string {
  const zone = ReportZone.of(q.dayZone) ?? ReportZone.UTC;
  const days =
    q.table === 'daily' ||
    (q.dayZone !== 'UTC' && zone.isMidnight(q.since.getTime()) && zone.isMidnight(q.until.getTime()));
  const at = (d: Date) =>
    days ? new Date(zone.date(d.getTime())).toISOString().slice(0, 10) : `${d.toISOString().slice(0, 13)}h`;
  return `leadrouter-report-${at(q.since)}-${at(q.until)}-${q.keys.join('-')}.csv`;
}
