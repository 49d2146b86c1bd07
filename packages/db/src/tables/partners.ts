import type { AcceptWhen, FieldMap, Filters, Ping, ResponseMap, Schedule, StatusPull } from '@leadrouter/core';
import { defineStatement, json, sql, SqlFragment, type RowOf, type SqlType } from '../sql.js';

// The partners table. Its JSON settings are stored as the admin API takes them (their shapes are core's rules.ts).
// Its columns are named for TypeScript once, here (`PARTNER_COLUMNS`); every statement that reads a partner — the
// worker's routing and attempts, the circuit breaker, the gauges, the operations — selects them through it, as
// columns (`partnerColumns`) or as one JSON value (`partnerJson`).

/** Each column of `partners p` a statement may read: the SQL expression and its type, by TypeScript name. */
const PARTNER_COLUMNS = {
  id: ['p.id::text', 'text'],
  name: ['p.name', 'varchar'],
  url: ['p.url', 'varchar'],
  method: ['p.method', 'varchar'],
  headers: ['p.headers', json<Record<string, string>>('jsonb')],
  secret: ['p.secret', 'varchar | null'],
  fieldMap: ['p.field_map', json<FieldMap | null>('jsonb | null')],
  acceptWhen: ['p.accept_when', json<AcceptWhen | null>('jsonb | null')],
  responseMap: ['p.response_map', json<ResponseMap | null>('jsonb | null')],
  timeoutMs: ['p.timeout_ms', 'int'],
  maxAttempts: ['p.max_attempts', 'int'],
  backoffDelayMs: ['p.backoff_delay_ms', 'int'],
  backoffMaxDelayMs: ['p.backoff_max_delay_ms', 'int'],
  concurrency: ['p.concurrency', 'int | null'],
  /** numeric, as text: exact */
  price: ['p.price::text', 'text | null'],
  active: ['p.active', 'boolean'],
  paused: ['p.paused_at IS NOT NULL', 'boolean'],
  pauseReason: ['p.pause_reason', 'varchar | null'],
  consecutiveFailures: ['p.consecutive_failures', 'int'],
  pauseAfterFailures: ['p.pause_after_failures', 'int'],
  schedule: ['p.schedule', json<Schedule | null>('jsonb | null')],
  capHourly: ['p.cap_hourly', 'int | null'],
  capDaily: ['p.cap_daily', 'int | null'],
  capWeekly: ['p.cap_weekly', 'int | null'],
  capMonthly: ['p.cap_monthly', 'int | null'],
  /** numeric, as text: exact */
  capDailyBudget: ['p.cap_daily_budget::text', 'text | null'],
  /** numeric, as text: exact */
  capMonthlyBudget: ['p.cap_monthly_budget::text', 'text | null'],
  filters: ['p.filters', json<Filters | null>('jsonb | null')],
  /** numeric, as text: exact */
  conversionPrice: ['p.conversion_price::text', 'text | null'],
  returnsWindowDays: ['p.returns_window_days', 'int'],
  returnsAutoApprove: ['p.returns_auto_approve', 'boolean'],
  /** As the admin API took it: `{"Deposit": "converted", …}`. */
  statusMap: ['p.status_map', json<Record<string, string> | null>('jsonb | null')],
  /** As the admin API took it (core's `StatusPull`); null: its statuses are not pulled. */
  statusPull: ['p.status_pull', json<StatusPull | null>('jsonb | null')],
  /** As the admin API took it (core's `Ping`); null: not pinged, it bids its `price` in auctions (ADR 0032). */
  ping: ['p.ping', json<Ping | null>('jsonb | null')],
} as const satisfies Record<string, readonly [string, SqlType]>;

type PartnerColumn = keyof typeof PARTNER_COLUMNS;
type PartnerTypes<K extends PartnerColumn> = { readonly [C in K]: (typeof PARTNER_COLUMNS)[C][1] };
/** A partner as a statement reads these of its columns. */
export type PartnerOf<K extends PartnerColumn> = RowOf<PartnerTypes<K>>;

/** The declared row of a statement selecting `partnerColumns(keys)`. */
export function partnerRow<const K extends PartnerColumn>(keys: readonly K[]): PartnerTypes<K> {
  return Object.fromEntries(keys.map((k) => [k, PARTNER_COLUMNS[k][1]])) as PartnerTypes<K>;
}

/** `p.cap_hourly AS "capHourly", …`: the columns, named for TypeScript. */
export function partnerColumns(keys: readonly PartnerColumn[]): SqlFragment {
  return new SqlFragment([keys.map((k) => `${PARTNER_COLUMNS[k][0]} AS "${k}"`).join(', ')]);
}

/** `json_build_object('id', p.id::text, …)`: the columns as one JSON value, named for TypeScript. */
export function partnerJson(keys: readonly PartnerColumn[]): SqlFragment {
  return new SqlFragment([`json_build_object(${keys.map((k) => `'${k}', ${PARTNER_COLUMNS[k][0]}`).join(', ')})`]);
}

/** A partner's caps, with the schedule whose timezone their periods are counted in (ADR 0030). */
export const CAP_SETTINGS = [
  'capHourly',
  'capDaily',
  'capWeekly',
  'capMonthly',
  'capDailyBudget',
  'capMonthlyBudget',
  'schedule',
] as const;
export type PartnerCaps = PartnerOf<(typeof CAP_SETTINGS)[number]>;

/** `p.cap_hourly IS NOT NULL OR …`: the partner has a cap, so its counters are kept. */
const HAS_CAPS = new SqlFragment([
  '(p.cap_hourly IS NOT NULL OR p.cap_daily IS NOT NULL OR p.cap_weekly IS NOT NULL OR p.cap_monthly IS NOT NULL' +
    ' OR p.cap_daily_budget IS NOT NULL OR p.cap_monthly_budget IS NOT NULL)',
]);

/** What the worker reads of a partner: routing's eligibility (state, schedule, caps) and an attempt's settings. */
const SETTINGS = [
  'id',
  'name',
  'url',
  'method',
  'headers',
  'secret',
  'fieldMap',
  'acceptWhen',
  'responseMap',
  'timeoutMs',
  'maxAttempts',
  'backoffDelayMs',
  'backoffMaxDelayMs',
  'concurrency',
  'price',
  'active',
  'paused',
  'pauseReason',
  'consecutiveFailures',
  ...CAP_SETTINGS,
] as const;

/** A partner as the advance step (eligibility) and a delivery attempt read it. */
export type PartnerRow = PartnerOf<(typeof SETTINGS)[number]>;

/** The partners row `p` as a `PartnerRow`, in one JSON value (to read with a delivery and its lead). */
export const PARTNER_ROW_JSON = partnerJson(SETTINGS);

/** These partners, as `PartnerRow`s (absent: no such partner). */
export const PARTNER_ROWS = defineStatement({
  name: 'lr_partner_rows',
  params: { ids: 'uuid[]' },
  row: { partner: json<PartnerRow>() },
  sql: (p) => sql`SELECT ${PARTNER_ROW_JSON} AS partner FROM partners p WHERE p.id = ANY(${p.ids})`,
});

// ---------------------------------------------------------------------------
// The circuit breaker (README "Pausing and resuming partners"), run with the attempt it follows. Each returns a row when it
// changed the partner: whether it paused it just now, its failures in a row, and why.

/** An answer that pauses the partner at once (a 410 Gone): `reason` cut to the column, `fullReason` reported. */
export const PAUSE_PARTNER = defineStatement({
  name: 'lr_pause_partner',
  params: { id: 'uuid', at: 'timestamptz', reason: 'text', fullReason: 'text' },
  row: { pausedNow: 'boolean', failures: 'int', reason: 'text' },
  sql: (p) => sql`UPDATE partners SET paused_at = ${p.at}, pause_reason = ${p.reason}, updated_at = now()
   WHERE id = ${p.id} AND paused_at IS NULL
   RETURNING TRUE AS "pausedNow", consecutive_failures AS failures, ${p.fullReason} AS reason`,
});

/** A real answer (accepted or rejected) clears the partner's failures in a row. */
export const CLEAR_FAILURES = defineStatement({
  name: 'lr_clear_failures',
  params: { id: 'uuid' },
  row: { pausedNow: 'boolean' },
  sql: (p) => sql`UPDATE partners SET consecutive_failures = 0, updated_at = now()
   WHERE id = ${p.id} AND consecutive_failures > 0 RETURNING FALSE AS "pausedNow"`,
});

/** A failed attempt counts against the partner; the one that reaches `pause_after_failures` pauses it at `at`. */
export const COUNT_FAILURE = defineStatement({
  name: 'lr_count_failure',
  params: { id: 'uuid', at: 'timestamptz', error: 'text' },
  row: { pausedNow: 'boolean', failures: 'int', reason: 'varchar | null' },
  sql: (p) => {
    const trips = sql`p.paused_at IS NULL AND p.consecutive_failures + 1 >= p.pause_after_failures`;
    return sql`UPDATE partners p SET consecutive_failures = p.consecutive_failures + 1,
     paused_at = CASE WHEN ${trips} THEN ${p.at} ELSE p.paused_at END,
     pause_reason = CASE WHEN ${trips}
       THEN left(format('%s failed attempts in a row (last: %s)', p.consecutive_failures + 1, ${p.error}), 500)
       ELSE p.pause_reason END,
     updated_at = CASE WHEN ${trips} THEN now() ELSE p.updated_at END
   FROM (SELECT id, paused_at IS NULL AS active FROM partners WHERE id = ${p.id} FOR UPDATE) was
   WHERE p.id = was.id
   RETURNING was.active AND p.paused_at IS NOT NULL AS "pausedNow", p.consecutive_failures AS failures,
             p.pause_reason AS reason`;
  },
});

// ---------------------------------------------------------------------------
// Occasional reads: planned for their values each time.

/** Every partner, as the routing decision reads it (cached by the worker, ADR 0009). */
/** What routing reads of every partner: its state and filters, and for auctions its `ping` and fixed `price`. */
const ROUTING_COLUMNS = ['id', 'name', 'active', 'paused', 'filters', 'ping', 'price'] as const;
export const ROUTING_PARTNERS = defineStatement({
  name: 'lr_routing_partners',
  row: partnerRow(ROUTING_COLUMNS),
  prepared: false,
  sql: () => sql`SELECT ${partnerColumns(ROUTING_COLUMNS)} FROM partners p`,
});

/** Active partners with a cap, for the cap-usage gauge. */
export const CAPPED_PARTNERS = defineStatement({
  name: 'lr_capped_partners',
  row: partnerRow(['id', 'name', ...CAP_SETTINGS]),
  prepared: false,
  sql: () =>
    sql`SELECT ${partnerColumns(['id', 'name', ...CAP_SETTINGS])} FROM partners p WHERE p.active AND ${HAS_CAPS}`,
});

/** How many active partners are paused (the circuit breaker's, a 410's, an operator's). */
export const COUNT_PAUSED_PARTNERS = defineStatement({
  name: 'lr_count_paused_partners',
  row: { n: 'int' },
  prepared: false,
  sql: () => sql`SELECT count(*)::int AS n FROM partners WHERE active AND paused_at IS NOT NULL`,
});

/** What a partner's health report reads of the partner: its caps, schedule and failures. */
export const PARTNER_HEALTH_ROW = defineStatement({
  name: 'lr_partner_health_row',
  params: { id: 'uuid' },
  row: partnerRow([...CAP_SETTINGS, 'consecutiveFailures', 'pauseAfterFailures']),
  prepared: false,
  sql: (p) => sql`SELECT ${partnerColumns([...CAP_SETTINGS, 'consecutiveFailures', 'pauseAfterFailures'])}
   FROM partners p WHERE p.id = ${p.id}`,
});

// ---------------------------------------------------------------------------
// Status pulls (docs/decisions/0029-status-pull.md): each partner's pull is scheduled by its row. A worker
// claims a due pull by taking a lease on it (`status_pull_due_at` moved to the lease's end, the run's id and
// start in `status_pull_cursor`), renews the lease as it goes, and ends it by writing the run's outcome and the
// next due time. A lease that is not renewed (its worker died) ends by itself, and the pull is due again.

/** Whether a partner is pulled: it has a `statusPull`, is active and not paused. */
const PULLED = sql`p.status_pull IS NOT NULL AND p.active AND p.paused_at IS NULL`;
/** Whether a pull of `p` runs now: a run holds an unexpired lease. */
const RUNNING = sql`(p.status_pull_cursor IS NOT NULL AND p.status_pull_due_at > now())`;

/**
 * Up to `limit` due pulls, each claimed for a run of its own (`run`: its id) with a lease of `leaseSeconds`;
 * rows another transaction is claiming are skipped. With the partner's feedback terms and its timeout.
 */
export const CLAIM_STATUS_PULLS = defineStatement({
  name: 'lr_claim_status_pulls',
  params: { leaseSeconds: 'int', limit: 'int' },
  row: {
    ...partnerRow([
      'id',
      'name',
      'timeoutMs',
      'conversionPrice',
      'returnsWindowDays',
      'returnsAutoApprove',
      'statusMap',
    ]),
    statusPull: json<StatusPull>('jsonb'),
    run: 'text',
    startedAt: 'timestamptz',
  },
  prepared: false,
  sql: (p) => sql`UPDATE partners p SET status_pull_due_at = now() + make_interval(secs => ${p.leaseSeconds}),
     status_pull_cursor = jsonb_build_object('run', gen_random_uuid()::text, 'startedAt', now())
   FROM (SELECT id FROM partners p
         WHERE ${PULLED} AND (p.status_pull_due_at IS NULL OR p.status_pull_due_at <= now())
         ORDER BY p.status_pull_due_at NULLS FIRST LIMIT ${p.limit}
         FOR UPDATE SKIP LOCKED) due
   WHERE p.id = due.id
   RETURNING ${partnerColumns(['id', 'name', 'timeoutMs', 'conversionPrice', 'returnsWindowDays', 'returnsAutoApprove', 'statusMap'])},
     p.status_pull AS "statusPull", p.status_pull_cursor->>'run' AS run, now() AS "startedAt"`,
});

/**
 * Extends the lease of run `run` by `leaseSeconds` from now, while it is still the partner's run and the
 * partner is still pulled; no row: the run must stop (the partner was paused, deactivated or its pull removed,
 * or the lease ran out and another run took it).
 */
export const RENEW_STATUS_PULL = defineStatement({
  name: 'lr_renew_status_pull',
  params: { id: 'uuid', run: 'text', leaseSeconds: 'int' },
  row: { dueAt: 'timestamptz' },
  prepared: false,
  sql: (p) => sql`UPDATE partners p SET status_pull_due_at = now() + make_interval(secs => ${p.leaseSeconds})
   WHERE p.id = ${p.id} AND p.status_pull_cursor->>'run' = ${p.run} AND ${PULLED}
   RETURNING p.status_pull_due_at AS "dueAt"`,
});

/**
 * Ends run `run` with its outcome: the partner's last run (when it started, whether it read every page, why
 * not, how many sales it changed), and the next pull due an interval from now (the interval stored now, or
 * `defaultIntervalSeconds`). No row: the run was not the partner's any more (another took its lease).
 */
export const FINISH_STATUS_PULL = defineStatement({
  name: 'lr_finish_status_pull',
  params: {
    id: 'uuid',
    run: 'text',
    ok: 'boolean',
    error: 'text | null',
    updated: 'int',
    defaultIntervalSeconds: 'int',
  },
  row: { nextRunAt: 'timestamptz' },
  prepared: false,
  sql: (p) => sql`UPDATE partners p SET status_pull_cursor = NULL,
     status_pull_last_run_at = (p.status_pull_cursor->>'startedAt')::timestamptz,
     status_pull_ok = ${p.ok}, status_pull_error = left(${p.error}, 1000), status_pull_updated = ${p.updated},
     status_pull_due_at = now() + make_interval(secs =>
       COALESCE((p.status_pull->>'intervalSeconds')::int, ${p.defaultIntervalSeconds}))
   WHERE p.id = ${p.id} AND p.status_pull_cursor->>'run' = ${p.run}
   RETURNING p.status_pull_due_at AS "nextRunAt"`,
});

/**
 * Makes the partner's next pull due now ("pull now"), unless one runs or the partner is not pulled: then no
 * row, and `STATUS_PULL_STATE` says which.
 */
export const REQUEST_STATUS_PULL = defineStatement({
  name: 'lr_request_status_pull',
  params: { id: 'uuid' },
  row: { id: 'text' },
  prepared: false,
  sql: (p) => sql`UPDATE partners p SET status_pull_due_at = now()
   WHERE p.id = ${p.id} AND ${PULLED} AND NOT ${RUNNING}
   RETURNING p.id::text`,
});

/** Whether the partner is pulled, and whether a pull of it runs now. */
export const STATUS_PULL_STATE = defineStatement({
  name: 'lr_status_pull_state',
  params: { id: 'uuid' },
  row: { configured: 'boolean', active: 'boolean', paused: 'boolean', running: 'boolean' },
  prepared: false,
  sql: (p) => sql`SELECT p.status_pull IS NOT NULL AS configured, p.active, p.paused_at IS NOT NULL AS paused,
     ${RUNNING} AS running
   FROM partners p WHERE p.id = ${p.id}`,
});

/** Gives up run `run` without an outcome (its worker is stopping): the pull is due again at once, for another. */
export const RELEASE_STATUS_PULL = defineStatement({
  name: 'lr_release_status_pull',
  params: { id: 'uuid', run: 'text' },
  prepared: false,
  sql: (p) => sql`UPDATE partners p SET status_pull_cursor = NULL, status_pull_due_at = now()
   WHERE p.id = ${p.id} AND p.status_pull_cursor->>'run' = ${p.run}`,
});

/**
 * After the partner's `statusPull` changed: its next pull an interval (the one stored now, or
 * `defaultIntervalSeconds`) after its last one, when that is sooner than the time set before; a pull that runs
 * keeps its lease.
 */
export const RESCHEDULE_STATUS_PULL = defineStatement({
  name: 'lr_reschedule_status_pull',
  params: { id: 'uuid', defaultIntervalSeconds: 'int' },
  prepared: false,
  sql: (p) => sql`UPDATE partners p SET status_pull_due_at = LEAST(p.status_pull_due_at,
       COALESCE(p.status_pull_last_run_at, now())
         + make_interval(secs => COALESCE((p.status_pull->>'intervalSeconds')::int, ${p.defaultIntervalSeconds})))
   WHERE p.id = ${p.id} AND p.status_pull IS NOT NULL AND p.status_pull_due_at IS NOT NULL AND NOT ${RUNNING}`,
});
