/**
 * Reports (README "Reports"; ADR 0028): an operator's report and a source's own, per group of day, hour, source,
 * partner, geo or channel. Money is exact decimal text (`"1250.5000"`), a string rather than a JSON number: sums
 * over a year of sales can have more significant digits than a JSON number keeps. Its currency is the report's
 * `currency` (CSV: a last column). Rates are numbers to 4 places, null when there is nothing to divide by.
 */
import { Closed, DateTime, Nullable, OneOf, REPORT_KEYS, SOURCE_REPORT_KEYS, Type, Uuid } from '@leadrouter/core';
import { CurrencyAnswer } from './amounts.js';
import { component, ref } from './components.js';
import { EXAMPLE_PARTNER_ID, EXAMPLE_SOURCE_ID } from './examples.js';

const count = (description: string) => Type.Integer({ minimum: 0, description });
/** A sum of money, exact: decimal text with 4 places, negative when more went out than came in. */
export const MoneyText = (description: string) =>
  Type.String({
    pattern: '^-?\\d+\\.\\d{4}$',
    description: `${description}; the exact decimal number as a JSON string with 4 places (a JSON number could round a year's sums), in the answer's \`currency\``,
    example: '1250.5000',
  });
const rate = (description: string) => Nullable(Type.Number({ minimum: 0, description }));
const averageBid = (of: string) =>
  Type.Union([MoneyText(of), Type.Null()], { description: `${of}; null without a bid` });

export const ReportParty = component(
  'ReportParty',
  Closed({
    id: Uuid(),
    name: Nullable(Type.String({ description: 'null when it was deleted since' })),
  }),
);

const timeKeys = {
  day: Type.Optional(
    Type.String({ format: 'date', description: 'the day (groupBy=day): a UTC day, or a day of the zone `tz` names' }),
  ),
  hour: Type.Optional(DateTime({ description: 'the UTC hour’s start (groupBy=hour)' })),
};
const placeKeys = {
  geo: Type.Optional(Nullable(Type.String({ description: 'the leads’ geo (groupBy=geo); null: none' }))),
  channel: Type.Optional(
    Nullable(Type.String({ description: 'the leads’ channel, their `source` field (groupBy=channel); null: none' })),
  ),
};
const leadFigures = {
  leads: count('leads posted: accepted, duplicates and leads that failed validation, at their arrival'),
  accepted: count('leads accepted (recorded), at their arrival'),
  duplicates: count('leads answered `409 duplicate`'),
  sold: count(
    'leads sold (also once converted or returned), by their arrival; in a partner’s group, its sales, when made',
  ),
  unsold: count('leads every eligible partner rejected, by their arrival'),
  unmatched: count('leads no route or partner could take, by their arrival'),
  deadLettered: count('leads dead-lettered (until an operator retries them), by their arrival'),
  converted: count('conversions partners reported, when they happened'),
  returned: count('approved returns, when approved'),
  reversed: count('conversions partners took back, when they did'),
};
const rates = {
  conversionRate: rate('converted / sold'),
  returnRate: rate('returned / sold'),
};

export const ReportItem = component(
  'ReportItem',
  Closed({
    ...timeKeys,
    source: Type.Optional(ref(ReportParty, { description: 'the source (groupBy=source)' })),
    partner: Type.Optional(
      Type.Unsafe<{ id: string; name: string | null } | null>({
        anyOf: [ref(ReportParty), { type: 'null' }],
        description:
          'the partner (groupBy=partner); null: what belongs to no partner — the leads’ own figures and source adjustments',
      }),
    ),
    ...placeKeys,
    ...leadFigures,
    revenue: MoneyText('what partners paid: sales and conversions, less returns and reversals, and adjustments'),
    cost: MoneyText('what sources are paid: payouts, less clawbacks and reversals, and adjustments'),
    margin: MoneyText('revenue − cost'),
    ...rates,
    pings: count(
      'a partner’s group: pings it was sent (a fixed-price partner: auctions it bid its price in); otherwise the sources’ pings (POST /v1/pings), at the ping’s hour',
    ),
    bids: count('a partner’s group: bids it answered; otherwise the sources’ pings answered with a bid'),
    wins: count('a partner’s group: auctions its bid was the best of; otherwise the leads posted against a ping'),
    winRate: rate('wins / bids'),
    averageBid: averageBid(
      'a partner’s group: its average bid; otherwise the average bid the sources were answered (their payout on the best bid)',
    ),
  }),
);

export const Report = component(
  'Report',
  Closed({
    since: DateTime({ description: 'the first instant covered (UTC)' }),
    until: DateTime({ description: 'the instant after the last covered (UTC)' }),
    tz: Type.String({ description: 'the time zone whose days the report’s days are (`UTC` unless `tz` was given)' }),
    groupBy: Type.Array(OneOf(REPORT_KEYS), { description: 'the group keys, in the order of each item’s keys' }),
    currency: CurrencyAnswer('the ISO 4217 code of every amount of the items: the installation’s `CURRENCY`'),
    items: Type.Array(ref(ReportItem), {
      description: 'one per group that has figures, ordered by its keys (time, then name)',
    }),
  }),
);

export const SourceReportItem = component(
  'SourceReportItem',
  Closed({
    ...timeKeys,
    ...placeKeys,
    ...leadFigures,
    payout: MoneyText('what you are paid for these leads, less clawbacks and reversals'),
    ...rates,
    pings: count('your pings (POST /v1/pings), at their hour'),
    bids: count('your pings answered with a bid'),
    posted: count('leads you posted against a ping, at their arrival'),
    winRate: rate('posted / bids'),
    averageBid: averageBid('the average bid you were answered (your payout on the best bid)'),
  }),
);

export const SourceReport = component(
  'SourceReport',
  Closed({
    since: DateTime(),
    until: DateTime(),
    tz: Type.String({ description: 'the time zone whose days the report’s days are (`UTC` unless `tz` was given)' }),
    groupBy: Type.Array(OneOf(SOURCE_REPORT_KEYS)),
    currency: CurrencyAnswer('the ISO 4217 code of every amount of the items: the installation’s `CURRENCY`'),
    items: Type.Array(ref(SourceReportItem)),
  }),
);

/** The document's examples. */
export const REPORT_EXAMPLE = {
  since: '2026-12-01T00:00:00.000Z',
  until: '2026-12-02T00:00:00.000Z',
  tz: 'UTC',
  groupBy: ['day', 'partner'],
  currency: 'USD',
  items: [
    {
      day: '2026-12-01',
      partner: { id: EXAMPLE_PARTNER_ID, name: 'acme' },
      leads: 0,
      accepted: 0,
      duplicates: 0,
      sold: 120,
      unsold: 0,
      unmatched: 0,
      deadLettered: 0,
      converted: 9,
      returned: 3,
      reversed: 1,
      revenue: '1612.5000',
      cost: '1080.0000',
      margin: '532.5000',
      conversionRate: 0.075,
      returnRate: 0.025,
      pings: 400,
      bids: 310,
      wins: 120,
      winRate: 0.3871,
      averageBid: '13.4500',
    },
  ],
};
export const REPORT_CSV_EXAMPLE =
  'day,source.id,source.name,leads,accepted,duplicates,sold,unsold,unmatched,deadLettered,converted,returned,reversed,revenue,cost,margin,conversionRate,returnRate,pings,bids,wins,winRate,averageBid,currency\r\n' +
  `2026-12-01,${EXAMPLE_SOURCE_ID},"Leads, Inc.",130,124,6,120,2,1,1,9,3,1,1612.5000,1080.0000,532.5000,0.075,0.025,0,0,0,,,USD\r\n`;
