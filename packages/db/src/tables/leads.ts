import type {
  AttemptOutcome,
  LeadFields,
  LeadStatus,
  LedgerKind,
  LedgerParty,
  NormalisedLead,
  RoutingRecord,
} from '@leadrouter/core';
import { defineStatement, json, sql, typed, type SqlFragment, type SqlParam, type StatementParams } from '../sql.js';

// The leads table (with its events): the ingest's accept, the worker's lock and advance step (ADR 0010, group
// commit in docs/performance.md), the operations', the sweeper's and the console's statements, and the lead API's views.

// ---------------------------------------------------------------------------
// The worker's: every change to a lead's deliveries happens under its row lock.

/** Takes the lead's row lock, reading it: its state, its data (what routing looks at), whether its source wants postbacks. */
export const LOCK_LEAD = defineStatement({
  name: 'lr_lock_lead',
  params: { leadId: 'uuid' },
  row: {
    id: 'text',
    status: '"LeadStatus"',
    sourceId: 'text',
    /** Null once its personal data is erased: never while it is queued or routing (ADR 0031). */
    name: 'varchar | null',
    phone: 'varchar | null',
    email: 'varchar | null',
    geo: 'text | null',
    source: 'varchar | null',
    fields: json<LeadFields['fields']>('jsonb'),
    /** As stored: read it with `readRoutingRecord`. */
    routing: 'jsonb | null',
    /** The auction of the ping it was posted against, as stored (packages/lifecycle's `PostedPing`); null: none. */
    ping: 'jsonb | null',
    postback: 'boolean',
  },
  sql: (p) => sql`SELECT l.id::text, l.status, l.source_id::text AS "sourceId", l.name, l.phone, l.email, l.geo::text,
          l.sub_source AS source, l.fields, l.routing, l.ping, s.postback_url IS NOT NULL AS postback
   FROM leads l JOIN sources s ON s.id = l.source_id WHERE l.id = ${p.leadId} FOR UPDATE OF l`,
});

/** What every advance step writes: the lead's routing record and status (each unchanged when null), its events. */
const STEP_PARAMS = {
  leadId: 'uuid',
  routing: json<RoutingRecord | null>('jsonb | null'),
  status: '"LeadStatus" | null',
  eventStatuses: '"LeadStatus"[]',
  eventPartners: 'uuid[]',
  eventDetails: 'jsonb[]',
} as const;
/** A step's new deliveries. */
const OFFER_PARAMS = {
  deliveryIds: 'uuid[]',
  partnerIds: 'uuid[]',
  capAmounts: 'numeric[]',
  /** Per delivery: null, due at `dueAt`; a time, its first attempt leased until then. */
  leasedUntil: 'timestamptz[]',
  dueAt: 'timestamptz',
} as const;
/** A step's postback. */
const POSTBACK_PARAMS = {
  postbackStatus: '"LeadStatus" | null',
  /** The postback's time when it is not its writing's (`settledMoney`'s `postbackAt`); null: when written. */
  postbackAt: 'timestamptz | null',
} as const;

type Refs<T> = { readonly [K in keyof T]: SqlParam };

const stepLead = (p: Refs<typeof STEP_PARAMS>) => sql`
   lead AS (
     UPDATE leads SET routing = coalesce(${p.routing}, routing), status = coalesce(${p.status}, status),
       updated_at = now()
     WHERE id = ${p.leadId}
     RETURNING created_at),`;
const stepOffers = (p: Refs<typeof STEP_PARAMS & typeof OFFER_PARAMS>) => sql`
   offered AS (
     INSERT INTO deliveries (id, lead_id, lead_created_at, partner_id, cap_amount, next_attempt_at, created_at, updated_at)
     SELECT o.id, ${p.leadId}, (SELECT created_at FROM lead), o.partner_id, o.cap_amount,
            coalesce(o.leased_until, ${p.dueAt}), ${p.dueAt}, now()
     FROM unnest(${p.deliveryIds}, ${p.partnerIds}, ${p.capAmounts}, ${p.leasedUntil})
       AS o (id, partner_id, cap_amount, leased_until)),`;
const stepEvents = (p: Refs<typeof STEP_PARAMS>) => sql`
   events AS (
     INSERT INTO lead_events (lead_id, lead_created_at, status, partner_id, detail)
     SELECT ${p.leadId}, (SELECT created_at FROM lead), e.status, e.partner_id, e.detail
     FROM unnest(${p.eventStatuses}, ${p.eventPartners}, ${p.eventDetails}) WITH ORDINALITY
       AS e (status, partner_id, detail, n)
     ORDER BY e.n)`;
const stepPostback = (p: Refs<typeof STEP_PARAMS & typeof POSTBACK_PARAMS>) => sql`,
   postback AS (
     INSERT INTO postbacks (id, lead_id, lead_created_at, source_id, lead_status, event_at, next_attempt_at, updated_at)
     SELECT uuidv7(), l.id, l.created_at, l.source_id, ${p.postbackStatus}, ${p.postbackAt}, now(), now()
     FROM leads l JOIN sources s ON s.id = l.source_id
     WHERE ${p.postbackStatus} IS NOT NULL AND l.id = ${p.leadId} AND s.postback_url IS NOT NULL
     ON CONFLICT (lead_id, lead_status) DO NOTHING
     RETURNING id)
   SELECT id::text FROM postback`;
/** The final part of a step without a postback: no row, as the postback's when none is made. */
const NO_POSTBACK = sql`
   SELECT NULL::text AS id WHERE false`;

/**
 * Everything an advance step writes, in one statement sent with the commit:
 * the new deliveries (`deliveryIds` to `partnerIds`, each with what it reserved
 * of its partner's budgets, `capAmounts`; created and due at `dueAt`, or, when
 * its first attempt is made at once, leased to its creator until its `leasedUntil`: CLAIM_ATTEMPT), the
 * routing record and the status (each unchanged when null) in one update, the
 * events in order (`eventStatuses`, `eventPartners`, `eventDetails`: JSON
 * texts), and the postback for a final status (`postbackStatus`) when the
 * source has a postback URL — one per lead and status: a dead letter retried
 * to `delivered` reports again, a repeat of the same status does not.
 * Data-modifying parts of a WITH all run to completion, whether or not the
 * final SELECT reads them. Returns the postback created, if any.
 *
 * A step without new deliveries or without a postback sends one of the statements below, which leave that
 * part out (`advanceStatement`): PostgreSQL opens a data-modifying part's table and indexes and builds its
 * plan's state on every run, rows or none (docs/performance.md, "The reports' trigger on leads' updates").
 */
export const ADVANCE = defineStatement({
  name: 'lr_advance',
  params: { ...STEP_PARAMS, ...OFFER_PARAMS, ...POSTBACK_PARAMS },
  row: { id: 'text' },
  sql: (p) => sql`WITH${stepLead(p)}${stepOffers(p)}${stepEvents(p)}${stepPostback(p)}`,
});

/** `ADVANCE` for a step that offers the lead to partners and makes no postback (the route step). */
export const ADVANCE_OFFER = defineStatement({
  name: 'lr_advance_offer',
  params: { ...STEP_PARAMS, ...OFFER_PARAMS },
  row: { id: 'text' },
  sql: (p) => sql`WITH${stepLead(p)}${stepOffers(p)}${stepEvents(p)}${NO_POSTBACK}`,
});

/** `ADVANCE` for a step without new deliveries that may make a postback (a lead settling). */
export const ADVANCE_SETTLE = defineStatement({
  name: 'lr_advance_settle',
  params: { ...STEP_PARAMS, ...POSTBACK_PARAMS },
  row: { id: 'text' },
  sql: (p) => sql`WITH${stepLead(p)}${stepEvents(p)}${stepPostback(p)}`,
});

/** `ADVANCE` for a step with neither (its routing record, status and events only). */
export const ADVANCE_STEP = defineStatement({
  name: 'lr_advance_step',
  params: STEP_PARAMS,
  row: { id: 'text' },
  sql: (p) => sql`WITH${stepLead(p)}${stepEvents(p)}${NO_POSTBACK}`,
});

/** The advance statement for a step's values: the one without the parts the step does not write. */
export function advanceStatement(values: StatementParams<typeof ADVANCE>): typeof ADVANCE {
  const offers = values.deliveryIds.length > 0;
  const postback = values.postbackStatus !== null;
  // Each variant takes a subset of ADVANCE's values (the call passes them all; only its own are sent).
  if (offers) return postback ? ADVANCE : (ADVANCE_OFFER as unknown as typeof ADVANCE);
  return (postback ? ADVANCE_SETTLE : ADVANCE_STEP) as unknown as typeof ADVANCE;
}

// ---------------------------------------------------------------------------
// Money's (ADR 0026): a sold lead's status follows its ledger, under its lock (LOCK_LEAD_MONEY, ledger.ts).

/**
 * Moves a lead whose money changed its status (`delivered` ↔ `converted` → `returned`) from `from` to `to`,
 * with its event; nothing when it is no longer in `from`. Run under the lead's lock.
 */
export const SET_MONEY_STATUS = defineStatement({
  name: 'lr_set_money_status',
  params: {
    leadId: 'uuid',
    from: '"LeadStatus"',
    to: '"LeadStatus"',
    partnerId: 'uuid | null',
    detail: 'jsonb | null',
    at: 'timestamptz',
  },
  sql: (p) => sql`WITH moved AS (
     UPDATE leads SET status = ${p.to}, updated_at = now() WHERE id = ${p.leadId} AND status = ${p.from}
     RETURNING id, created_at)
   INSERT INTO lead_events (lead_id, lead_created_at, status, partner_id, detail, at)
   SELECT id, created_at, ${p.to}, ${p.partnerId}, ${p.detail}, ${p.at} FROM moved`,
});

// ---------------------------------------------------------------------------
// The ingest's accept (group commit).

/** Takes advisory locks, in the order given (ascending: every transaction takes them so, and two never deadlock). */
export const LOCK_KEYS = defineStatement({
  name: 'lr_lock_keys',
  params: { keys: 'bigint[]' },
  row: { locked: 'void' },
  sql: (p) => sql`SELECT pg_advisory_xact_lock(k) AS locked FROM unnest(${p.keys}) AS k`,
});

/**
 * Releases a source's Idempotency-Key when its lead is older than the window (`idempotency_keys`, ADR 0035
 * Decision 5): the housekeeping deletes such keys each round, this releases one reused before that.
 */
export const RELEASE_KEY = defineStatement({
  name: 'lr_release_key',
  params: { sourceId: 'uuid', key: 'text', windowHours: 'int' },
  sql: (p) => sql`DELETE FROM idempotency_keys
   WHERE source_id = ${p.sourceId} AND key = ${p.key}
     AND lead_created_at < now() - make_interval(hours => ${p.windowHours})`,
});

/**
 * Deletes up to `limit` Idempotency-Keys whose lead was created before `before` (past the replay window),
 * oldest first, through the index on `lead_created_at` (the housekeeping's, ADR 0035 Decision 5); returns how many.
 */
export const DELETE_OLD_IDEMPOTENCY_KEYS = defineStatement({
  name: 'lr_delete_old_idempotency_keys',
  params: { before: 'timestamptz', limit: 'int' },
  row: { deleted: 'int' },
  prepared: false,
  sql: (p) => sql`WITH gone AS (
     DELETE FROM idempotency_keys WHERE (source_id, key) IN (
       SELECT source_id, key FROM idempotency_keys WHERE lead_created_at < ${p.before}
       ORDER BY lead_created_at LIMIT ${p.limit})
     RETURNING 1)
   SELECT count(*)::int AS deleted FROM gone`,
});

/**
 * Lead number `n` of a group: the holder of its Idempotency-Key (`idempotency_keys`: a replay),
 * else a lead with its phone or email in the source's duplicate window
 * (`windowHours`, 0: no check) — also one whose personal data was erased,
 * by the digests kept of it (`erased_contacts`, ADR 0031) — with whether it
 * is the source's own, else the lead inserted with its `queued` event and
 * its key (a key committed meanwhile elsewhere: a unique violation). The
 * duplicate look-up is one branch per index, so no plan can walk
 * `created_at` instead.
 */
export const ACCEPT = defineStatement({
  name: 'lr_accept',
  params: {
    n: 'int',
    sourceId: 'uuid',
    name: 'text',
    phone: 'text',
    email: 'text | null',
    geo: 'text | null',
    subSource: 'text | null',
    fields: 'jsonb',
    consent: 'jsonb | null',
    key: 'text | null',
    requestHash: 'text | null',
    windowHours: 'int',
    /** The new lead's id, when the caller chose it (a post against a ping claims it first); null: a new UUIDv7. */
    id: 'uuid | null',
    /** The auction of the ping it is posted against (ADR 0032); null: none. */
    ping: 'jsonb | null',
    /** The detail of its `queued` event (a post against a ping: the ping and the fields its values replaced). */
    detail: 'jsonb | null',
  },
  row: {
    n: 'int',
    outcome: typed<'replay' | 'duplicate' | 'accepted'>('text'),
    id: 'text',
    requestHash: 'text | null',
    sameSource: 'boolean',
  },
  sql: (p) => sql`WITH
   replay AS (SELECT lead_id AS id, request_hash FROM idempotency_keys WHERE source_id = ${p.sourceId} AND key = ${p.key}),
   duplicate AS (
     SELECT id, source_id FROM (
       SELECT id, source_id, created_at FROM leads
       WHERE phone = ${p.phone} AND created_at > now() - make_interval(hours => ${p.windowHours})
       UNION ALL
       SELECT id, source_id, created_at FROM leads
       WHERE email = ${p.email} AND created_at > now() - make_interval(hours => ${p.windowHours})
       UNION ALL
       SELECT lead_id, source_id, created_at FROM erased_contacts
       WHERE digest = ANY (ARRAY[contact_digest('phone', ${p.phone}), contact_digest('email', ${p.email})])
         AND created_at > now() - make_interval(hours => ${p.windowHours})
     ) AS d
     WHERE ${p.windowHours} > 0 AND NOT EXISTS (SELECT 1 FROM replay)
     ORDER BY created_at LIMIT 1),
   created AS (
     INSERT INTO leads (id, source_id, name, phone, email, geo, sub_source, fields, consent, ping, updated_at)
     SELECT coalesce(${p.id}, uuidv7()), ${p.sourceId}, ${p.name}, ${p.phone}, ${p.email}, ${p.geo}, ${p.subSource},
            ${p.fields}, ${p.consent}, ${p.ping}, now()
     WHERE NOT EXISTS (SELECT 1 FROM replay) AND NOT EXISTS (SELECT 1 FROM duplicate)
     RETURNING id, created_at),
   keyed AS (
     INSERT INTO idempotency_keys (source_id, key, lead_id, lead_created_at, request_hash)
     SELECT ${p.sourceId}, ${p.key}, id, created_at, ${p.requestHash} FROM created WHERE ${p.key}::text IS NOT NULL),
   event AS (
     INSERT INTO lead_events (lead_id, lead_created_at, status, detail)
     SELECT id, created_at, 'queued'::"LeadStatus", ${p.detail} FROM created)
   SELECT ${p.n} AS n, 'replay' AS outcome, id::text AS id, request_hash::text AS "requestHash", TRUE AS "sameSource"
   FROM replay
   UNION ALL SELECT ${p.n}, 'duplicate', id::text, NULL, source_id = ${p.sourceId} FROM duplicate
   UNION ALL SELECT ${p.n}, 'accepted', id::text, NULL, TRUE FROM created`,
});

/** The values of `ACCEPT` for a lead as validated (`NormalisedLead`): its columns. */
export function acceptValues(
  lead: NormalisedLead,
  given: Pick<StatementParams<typeof ACCEPT>, 'n' | 'sourceId' | 'key' | 'requestHash' | 'windowHours'> &
    Partial<Pick<StatementParams<typeof ACCEPT>, 'id' | 'ping' | 'detail'>>,
): StatementParams<typeof ACCEPT> {
  return {
    id: null,
    ping: null,
    detail: null,
    ...given,
    name: lead.name,
    phone: lead.phone,
    email: lead.email,
    geo: lead.geo,
    subSource: lead.source,
    fields: lead.fields,
    consent: lead.consent,
  };
}

/** The lead holding a source's Idempotency-Key, with the fingerprint of the request that recorded it. */
export const LEAD_BY_KEY = defineStatement({
  name: 'lr_lead_by_key',
  params: { sourceId: 'uuid', key: 'text' },
  row: { id: 'text', requestHash: 'text | null' },
  prepared: false,
  sql: (p) => sql`SELECT lead_id::text AS id, request_hash::text AS "requestHash" FROM idempotency_keys
   WHERE source_id = ${p.sourceId} AND key = ${p.key}`,
});

// ---------------------------------------------------------------------------
// The operations' (ADR 0007): planned for their values each time (`prepared: false`).

/** Locks these leads, in id order (the worker's), reading their status, routing record (as stored) and whether they are erased. */
export const LOCK_LEADS = defineStatement({
  name: 'lr_lock_leads',
  params: { ids: 'uuid[]' },
  row: { id: 'text', status: '"LeadStatus"', routing: 'jsonb | null', erased: 'boolean' },
  prepared: false,
  sql: (p) => sql`SELECT id::text, status, routing, personal_data_erased_at IS NOT NULL AS erased
   FROM leads WHERE id = ANY(${p.ids}) ORDER BY id FOR UPDATE`,
});

/** Moves these leads back to `routing` at `at`, for the worker to settle them again. */
export const REOPEN_LEADS = defineStatement({
  name: 'lr_reopen_leads',
  params: { ids: 'uuid[]', at: 'timestamptz' },
  prepared: false,
  sql: (p) => sql`UPDATE leads SET status = 'routing', updated_at = ${p.at} WHERE id = ANY(${p.ids})`,
});

/** One event per lead (`leadIds[i]`, with `partnerIds[i]` and `details[i]`, JSON text), all of `status` at `at`, in order. */
export const ADD_LEAD_EVENTS = defineStatement({
  name: 'lr_add_lead_events',
  params: { leadIds: 'uuid[]', status: '"LeadStatus"', partnerIds: 'uuid[]', details: 'jsonb[]', at: 'timestamptz' },
  prepared: false,
  sql: (p) => sql`INSERT INTO lead_events (lead_id, lead_created_at, status, partner_id, detail, at)
   SELECT e.lead_id, (SELECT l.created_at FROM leads l WHERE l.id = e.lead_id), ${p.status}, e.partner_id, e.detail,
          ${p.at}
   FROM unnest(${p.leadIds}, ${p.partnerIds}, ${p.details}) WITH ORDINALITY AS e (lead_id, partner_id, detail, n)
   ORDER BY e.n`,
});

// ---------------------------------------------------------------------------
// The sweeper's (leads whose job was probably lost) and the console's: planned for their values each time.

/** Leads still `queued` since before `before`, oldest first. */
export const QUEUED_LEADS = defineStatement({
  name: 'lr_queued_leads',
  params: { before: 'timestamptz', limit: 'int' },
  row: { id: 'uuid' },
  prepared: false,
  sql: (p) => sql`SELECT id FROM leads WHERE status = 'queued' AND created_at < ${p.before}
   ORDER BY created_at LIMIT ${p.limit}`,
});

/** Leads `routing` since before `before` with nothing pending: they missed their advance step. */
export const STUCK_LEADS = defineStatement({
  name: 'lr_stuck_leads',
  params: { before: 'timestamptz', limit: 'int' },
  row: { id: 'uuid' },
  prepared: false,
  sql: (p) => sql`SELECT l.id FROM leads l
   WHERE l.status = 'routing' AND l.updated_at < ${p.before}
     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.lead_id = l.id AND d.status = 'pending')
   ORDER BY l.id LIMIT ${p.limit}`,
});

/**
 * Leads received per step of `stepMs` milliseconds (numbered from the epoch)
 * in [since, until), and how many of those are delivered by now.
 */
export const LEAD_TIMELINE = defineStatement({
  name: 'lr_lead_timeline',
  params: { since: 'timestamptz', until: 'timestamptz', stepMs: 'numeric' },
  row: { bucket: 'bigint', received: 'int', delivered: 'int' },
  prepared: false,
  sql: (p) => sql`SELECT floor(extract(epoch FROM created_at) * 1000 / ${p.stepMs})::bigint AS bucket,
          count(*)::int AS received,
          count(*) FILTER (WHERE status = 'delivered')::int AS delivered
   FROM leads WHERE created_at >= ${p.since} AND created_at < ${p.until}
   GROUP BY 1`,
});

/** Leads received since `since` that were posted against a ping (ADR 0032), per source (the stats). */
export const POSTED_SINCE = defineStatement({
  name: 'lr_posted_since',
  params: { since: 'timestamptz' },
  row: { sourceId: 'text', posted: 'int' },
  prepared: false,
  sql: (p) => sql`SELECT source_id::text AS "sourceId", count(*)::int AS posted
   FROM leads WHERE created_at >= ${p.since} AND ping IS NOT NULL GROUP BY source_id`,
});

/**
 * The last `limit` leads whose personal data is kept, newest first (the dry run replays them), as the routing
 * reads a lead: name and phone are never NULL before the erasure. Through leads_personal_data_kept_idx.
 */
export const LATEST_KEPT_LEADS = defineStatement({
  name: 'lr_latest_kept_leads',
  params: { limit: 'int' },
  row: {
    id: 'text',
    sourceId: 'text',
    name: 'varchar',
    phone: 'varchar',
    email: 'varchar | null',
    geo: 'bpchar | null',
    source: 'varchar | null',
    fields: json<LeadFields['fields']>('jsonb'),
    createdAt: 'timestamptz',
  },
  prepared: false,
  sql: (p) => sql`SELECT id::text, source_id::text AS "sourceId", name, phone, email, geo, sub_source AS source, fields,
          created_at AS "createdAt"
   FROM leads WHERE personal_data_erased_at IS NULL ORDER BY created_at DESC, id DESC LIMIT ${p.limit}`,
});

// ---------------------------------------------------------------------------
// The lead search (GET /v1/admin/leads, `leadrouter leads search`): two fixed statements, planned for their
// values each time (inline). A filter not asked for is a NULL parameter, and `(NULL IS NULL OR …)` is folded
// away by the planner before it picks an index, so each search is planned as if written with only its filters:
// leads(created_at) newest first (the partial indexes of the rare states for a status filter, ADR 0035),
// leads(source_id, created_at), (phone, created_at), (email, created_at). The partner's filter is a statement
// of its own: a sub-select under an OR is not turned into a join, so it must stand in the WHERE on its own.

/** Every filter of the search but the partner's; null: not filtered on. */
const LEAD_SEARCH_PARAMS = {
  statuses: '"LeadStatus"[] | null',
  sourceId: 'uuid | null',
  phone: 'varchar | null',
  email: 'varchar | null',
  since: 'timestamptz | null',
  until: 'timestamptz | null',
  /** The keyset cursor: the last line's created_at and id (both or neither). */
  cursorAt: 'timestamptz | null',
  cursorId: 'uuid | null',
  /** The page's size and one more, to know whether there is a next page. */
  limit: 'int',
} as const;

const LEAD_SEARCH_ROW = {
  id: 'text',
  status: '"LeadStatus"',
  sourceId: 'text',
  geo: 'bpchar | null',
  createdAt: 'timestamptz',
  updatedAt: 'timestamptz',
} as const;

type SqlPart = Parameters<typeof sql>[1];

/** The search, newest first by (created_at, id), with `also` (the partner's filter) among its conditions. */
function leadSearchText(p: { readonly [K in keyof typeof LEAD_SEARCH_PARAMS]: SqlPart }, also: SqlFragment) {
  return sql`SELECT l.id::text, l.status, l.source_id::text AS "sourceId", l.geo, l.created_at AS "createdAt",
          l.updated_at AS "updatedAt"
   FROM leads l
   WHERE (${p.statuses} IS NULL OR l.status = ANY(${p.statuses}))
     AND (${p.sourceId} IS NULL OR l.source_id = ${p.sourceId})
     AND (${p.phone} IS NULL OR l.phone = ${p.phone})
     AND (${p.email} IS NULL OR l.email = ${p.email})
     AND (${p.since} IS NULL OR l.created_at >= ${p.since})
     AND (${p.until} IS NULL OR l.created_at < ${p.until})
     AND (${p.cursorAt} IS NULL
          OR (l.created_at <= ${p.cursorAt} AND (l.created_at < ${p.cursorAt} OR l.id < ${p.cursorId})))${also}
   ORDER BY l.created_at DESC, l.id DESC
   LIMIT ${p.limit}`;
}

/**
 * Leads by status, source, phone, email and time, a page at a time. The cursor's `<=` bound lets an index scan
 * start at the cursor; the OR breaks ties on id.
 */
export const LEAD_SEARCH = defineStatement({
  name: 'lr_lead_search',
  params: LEAD_SEARCH_PARAMS,
  row: LEAD_SEARCH_ROW,
  prepared: false,
  sql: (p) => leadSearchText(p, sql``),
});

/**
 * The same, of the leads offered to a partner (a delivery of any outcome), through
 * deliveries(partner_id, created_at): a delivery is never older than its lead, so `since` bounds the
 * deliveries read too. Without `since`, the planner walks leads newest first and probes
 * deliveries(lead_id, partner_id) (ADR 0007).
 */
export const LEAD_SEARCH_BY_PARTNER = defineStatement({
  name: 'lr_lead_search_by_partner',
  params: { ...LEAD_SEARCH_PARAMS, partnerId: 'uuid' },
  row: LEAD_SEARCH_ROW,
  prepared: false,
  sql: (p) =>
    leadSearchText(
      p,
      sql`
     AND l.id IN (SELECT d.lead_id FROM deliveries d
                  WHERE d.partner_id = ${p.partnerId} AND (${p.since} IS NULL OR d.created_at >= ${p.since}))`,
    ),
});

// ---------------------------------------------------------------------------
// The lead API's views (`GET /v1/leads/:id`): each party its own (ADR 0015), each in one round trip.

// Timestamps inside JSON as epoch milliseconds (exact: the columns are timestamptz(3)).
const epochMs = (column: SqlFragment) => sql`(extract(epoch FROM ${column}) * 1000)::bigint`;

/** The lead's own columns, as both views read them. */
const LEAD_VIEW_ROW = {
  id: 'uuid',
  sourceId: 'uuid',
  status: '"LeadStatus"',
  /** Null once erased (`erasedAt`), as phone and email. */
  name: 'varchar | null',
  phone: 'varchar | null',
  email: 'varchar | null',
  geo: 'bpchar | null',
  subSource: 'varchar | null',
  fields: json<LeadFields['fields']>('jsonb'),
  createdAt: 'timestamptz',
  erasedAt: 'timestamptz | null',
} as const;
const leadViewColumns = sql`l.id, l.source_id AS "sourceId", l.status, l.name, l.phone, l.email, l.geo,
          l.sub_source AS "subSource", l.fields, l.created_at AS "createdAt", l.personal_data_erased_at AS "erasedAt"`;
/** The lead's status changes: every event but its erasure's (which the views show as `personalDataErasedAt`). */
const statusEvents = sql`e.lead_id = l.id AND e.lead_created_at = l.created_at
  AND (e.detail IS NULL OR e.detail->>'event' IS DISTINCT FROM 'personal_data_erased')`;

/** One attempt of one of the lead's deliveries, as the admin's view lists them. */
export /** One ledger entry as the admin's lead view reads it (LEAD_VIEW). */
interface LeadViewEntry {
  id: string;
  party: LedgerParty;
  partyId: string;
  kind: LedgerKind;
  /** numeric, as text: exact */
  amount: string;
  deliveryId: string | null;
  eventId: string;
  note: string | null;
  /** epoch milliseconds */
  at: number;
}

interface LeadViewAttempt {
  partner: string;
  attempt: number;
  outcome: AttemptOutcome;
  httpStatus: number | null;
  durationMs: number;
  error: string | null;
  /** The partner's own reference for the lead (`responseMap.reference`), on an accepted attempt that stored one; else null. */
  reference: string | null;
  /** Epoch milliseconds. */
  at: number;
}

/**
 * The lead as its source sees it: its data and its status changes in the
 * order they were recorded (`at` in epoch milliseconds); nothing of its
 * routing or deliveries is read. Another source's lead is no row.
 */
export const SOURCE_LEAD_VIEW = defineStatement({
  name: 'lr_source_lead_view',
  params: { id: 'uuid', sourceId: 'uuid' },
  row: {
    ...LEAD_VIEW_ROW,
    events: json<{ at: number; status: LeadStatus }[]>(),
    /** What the source earns on the lead: its own ledger entries' sum (numeric text: exact). */
    payout: 'text',
    /**
     * Why a `returned` lead came back: the reasons of its approved returns as given (by the partner, or the
     * operator who filed it), each once, in the order approved; null for any other status. Only the reason
     * text: nothing of who returned it or what it had paid.
     */
    reason: 'text | null',
  },
  sql: (p) => sql`SELECT ${leadViewColumns},
    (SELECT coalesce(json_agg(json_build_object('at', ${epochMs(sql`e.at`)}, 'status', e.status) ORDER BY e.id), '[]')
       FROM lead_events e WHERE ${statusEvents}) AS events,
    (SELECT coalesce(sum(m.amount), 0)::text FROM ledger_entries m
       WHERE m.lead_id = l.id AND m.party = 'source') AS payout,
    CASE WHEN l.status = 'returned' THEN
      (SELECT string_agg(r.reason, '; ' ORDER BY r.first) FROM
         (SELECT reason, min(coalesce(decided_at, created_at)) AS first FROM returns
           WHERE lead_id = l.id AND status = 'approved' GROUP BY reason) r)
    END AS reason
  FROM leads l
  WHERE l.id = ${p.id} AND l.source_id = ${p.sourceId}`,
});

/**
 * Where leads stand for their source, for the answer to a source that waits for the outcome (`Prefer: wait`,
 * ADR 0033): each lead's status and what its source earns on it (its own ledger lines' sum, numeric text: exact),
 * nothing of a partner. Only the source's own leads.
 */
export const LEAD_OUTCOMES = defineStatement({
  name: 'lr_lead_outcomes',
  params: { ids: 'uuid[]', sourceId: 'uuid' },
  /** `payout`: null while the source has no ledger line on the lead. */
  row: { id: 'uuid', status: '"LeadStatus"', payout: 'text | null' },
  sql: (p) => sql`SELECT l.id, l.status,
    (SELECT sum(m.amount)::text FROM ledger_entries m
       WHERE m.lead_id = l.id AND m.party = 'source') AS payout
  FROM leads l
  WHERE l.id = ANY(${p.ids}) AND l.source_id = ${p.sourceId}`,
});

/**
 * The lead with its history, for the admin: its routing record as stored
 * (read it with `readRoutingRecord` to act on it); its events in the order
 * they were recorded; every attempt of every delivery, oldest first (attempts
 * of the same millisecond by partner id, then attempt number, the order of
 * the Prisma query this replaced); the names of the partners its deliveries
 * and routing record mention, by id.
 */
export const LEAD_VIEW = defineStatement({
  name: 'lr_lead_view',
  params: { id: 'uuid' },
  row: {
    ...LEAD_VIEW_ROW,
    /** As stored. */
    routing: 'jsonb | null',
    events: json<{ at: number; status: LeadStatus; partnerId: string | null }[]>(),
    attempts: json<LeadViewAttempt[]>(),
    partners: json<Record<string, string>>(),
    /** Its ledger, oldest first (amounts as numeric text, times as epoch milliseconds: exact). */
    entries: json<LeadViewEntry[]>(),
  },
  sql: (p) => sql`SELECT ${leadViewColumns}, l.routing,
    (SELECT coalesce(json_agg(json_build_object('at', ${epochMs(sql`e.at`)}, 'status', e.status, 'partnerId', e.partner_id)
              ORDER BY e.id), '[]')
       FROM lead_events e WHERE ${statusEvents}) AS events,
    (SELECT coalesce(json_agg(json_build_object('partner', p.name, 'attempt', a.attempt, 'outcome', a.outcome,
              'httpStatus', a.http_status, 'durationMs', a.duration_ms, 'error', a.error,
              'reference', CASE WHEN a.outcome = 'accepted' THEN d.reference END, 'at', ${epochMs(sql`a.at`)})
              ORDER BY a.at, d.partner_id, a.attempt), '[]')
       FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id AND a.lead_created_at = l.created_at
         JOIN partners p ON p.id = d.partner_id
       WHERE d.lead_id = l.id) AS attempts,
    (SELECT coalesce(json_object_agg(p.id, p.name), '{}')
       FROM partners p
       WHERE p.id = ANY (ARRAY(
         SELECT d.partner_id FROM deliveries d WHERE d.lead_id = l.id
         UNION SELECT (jsonb_path_query(l.routing, 'lax $.decisions[*].partnerId') #>> '{}')::uuid
         UNION SELECT (jsonb_path_query(l.routing, 'lax $.candidates[*]') #>> '{}')::uuid))) AS partners,
    (SELECT coalesce(json_agg(json_build_object('id', m.id, 'party', m.party, 'partyId', m.party_id, 'kind', m.kind,
              'amount', m.amount::text, 'deliveryId', m.delivery_id, 'eventId', m.event_id, 'note', m.note,
              'at', ${epochMs(sql`m.at`)}) ORDER BY m.at, m.recorded_at, m.kind, m.party, m.id), '[]')
       FROM ledger_entries m WHERE m.lead_id = l.id) AS entries
  FROM leads l
  WHERE l.id = ${p.id}`,
});

// ---------------------------------------------------------------------------
// Personal-data erasure (ADR 0031): an operator's request for one lead, or the worker's retention in batches.

/** What the erasure's event on the lead's timeline says: who asked and why, never what was erased. */
export interface ErasureDetail {
  event: 'personal_data_erased';
  /** `operator` (the admin API, the console, the CLI) or `retention` (PII_RETENTION_DAYS). */
  by: 'operator' | 'retention';
  /** Through what: `api` or `cli` for an operator. */
  via?: 'api' | 'cli';
  /** The operator's reason, as given. */
  reason?: string;
}

/**
 * Locks a lead for its erasure (the worker's lock: the lead's row), reading
 * whether it is erased already and whether it is still being delivered: its
 * status, and whether a delivery of it is pending (a retried dead letter of a
 * lead already sold is, while its status is settled).
 */
export const LOCK_LEAD_FOR_ERASURE = defineStatement({
  name: 'lr_lock_lead_for_erasure',
  params: { leadId: 'uuid' },
  row: {
    id: 'text',
    status: '"LeadStatus"',
    erasedAt: 'timestamptz | null',
    pending: 'boolean',
  },
  prepared: false,
  sql: (p) => sql`SELECT l.id::text, l.status, l.personal_data_erased_at AS "erasedAt",
          EXISTS (SELECT 1 FROM deliveries d WHERE d.lead_id = l.id AND d.status::text = 'pending') AS pending
   FROM leads l WHERE l.id = ${p.leadId} FOR UPDATE OF l`,
});

/**
 * The retention's next batch: leads created before `before` whose personal
 * data is kept, oldest first, locked — those another transaction holds (a
 * worker, another replica's housekeeping) skipped, and those still being
 * delivered (queued, routing, or with a pending delivery) left for a later
 * round. Walks `leads_personal_data_kept_idx` (the leads not erased, by
 * created_at) from its start: what it erased before is not in it.
 */
export const LEADS_PAST_RETENTION = defineStatement({
  name: 'lr_leads_past_retention',
  params: { before: 'timestamptz', limit: 'int' },
  row: { id: 'uuid' },
  prepared: false,
  sql: (p) => sql`SELECT l.id FROM leads l
   WHERE l.personal_data_erased_at IS NULL AND l.created_at < ${p.before}
     AND l.status::text NOT IN ('queued', 'routing')
     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.lead_id = l.id AND d.status::text = 'pending')
   ORDER BY l.created_at LIMIT ${p.limit}
   FOR UPDATE OF l SKIP LOCKED`,
});

/**
 * Erases the personal data of these leads (the caller holds their locks; a
 * lead erased already is left as it is), in one statement:
 *
 * - the lead's name, phone, email, custom fields, consent, and its
 *   Idempotency-Key and request fingerprint (a source's key may hold an
 *   email: its row of `idempotency_keys` deleted, and the columns of `leads`
 *   that held them before ADR 0035 Decision 5); `personal_data_erased_at` set to `at`;
 * - its phone and email as keyed digests (`erased_contacts`) while the
 *   longest duplicate window of any source still reaches the lead, so the
 *   duplicate check keeps finding it;
 * - every free text that could echo them — a partner's answer excerpts
 *   (dropped), errors, reasons and raw statuses, the routing record and the
 *   events' details — with the lead's own strings replaced by `[erased]`
 *   (`personal_data_needles`, `erase_text`, `erase_jsonb`);
 * - one event on its timeline, at its current status, with `detail`.
 *
 * Money (the ledger, prices), statuses, deliveries' outcomes, the partners'
 * references and the ids stay. Returns the leads erased.
 */
export const ERASE_PERSONAL_DATA = defineStatement({
  name: 'lr_erase_personal_data',
  params: { ids: 'uuid[]', at: 'timestamptz', detail: json<ErasureDetail>('jsonb') },
  row: { id: 'text' },
  prepared: false,
  sql: (p) => sql`WITH
   target AS (
     SELECT l.id, l.source_id, l.created_at, l.phone, l.email,
            personal_data_needles(l.name, l.phone, l.email, l.fields) AS needles
     FROM leads l WHERE l.id = ANY (${p.ids}) AND l.personal_data_erased_at IS NULL),
   windowed AS (
     SELECT ${p.at}::timestamptz - make_interval(hours => coalesce(max(duplicate_window_hours), 0)) AS since
     FROM sources),
   contacts AS (
     INSERT INTO erased_contacts (digest, lead_id, source_id, created_at)
     SELECT contact_digest(c.kind, c.value), t.id, t.source_id, t.created_at
     FROM target t CROSS JOIN windowed w CROSS JOIN LATERAL (VALUES ('phone', t.phone), ('email', t.email)) AS c (kind, value)
     WHERE c.value IS NOT NULL AND t.created_at > w.since
     ON CONFLICT DO NOTHING),
   scrubbed_events AS (
     UPDATE lead_events e SET detail = erase_jsonb(e.detail, t.needles)
     FROM target t WHERE e.lead_id = t.id AND e.lead_created_at = t.created_at AND e.detail IS NOT NULL),
   scrubbed_deliveries AS (
     UPDATE deliveries d SET last_error = left(erase_text(d.last_error, t.needles), 1000),
       reason = left(erase_text(d.reason, t.needles), 500),
       partner_status = left(erase_text(d.partner_status, t.needles), 200)
     FROM target t
     WHERE d.lead_id = t.id AND (d.last_error IS NOT NULL OR d.reason IS NOT NULL OR d.partner_status IS NOT NULL)),
   scrubbed_attempts AS (
     UPDATE delivery_attempts a SET response_excerpt = NULL, error = left(erase_text(a.error, t.needles), 1000)
     FROM deliveries d JOIN target t ON t.id = d.lead_id
     WHERE a.delivery_id = d.id AND a.lead_created_at = t.created_at
       AND (a.response_excerpt IS NOT NULL OR a.error IS NOT NULL)),
   scrubbed_feedback AS (
     UPDATE feedback_events f SET status = left(erase_text(f.status, t.needles), 200),
       reason = left(erase_text(f.reason, t.needles), 500)
     FROM target t WHERE f.lead_id = t.id AND (f.status IS NOT NULL OR f.reason IS NOT NULL)),
   scrubbed_returns AS (
     UPDATE returns r SET reason = left(erase_text(r.reason, t.needles), 500),
       decision_reason = left(erase_text(r.decision_reason, t.needles), 500)
     FROM target t WHERE r.lead_id = t.id),
   scrubbed_postbacks AS (
     UPDATE postbacks b SET reason = left(erase_text(b.reason, t.needles), 500),
       last_error = left(erase_text(b.last_error, t.needles), 1000)
     FROM target t WHERE b.lead_id = t.id AND (b.reason IS NOT NULL OR b.last_error IS NOT NULL)),
   forgotten_keys AS (DELETE FROM idempotency_keys k USING target t WHERE k.lead_id = t.id),
   erased AS (
     UPDATE leads l SET name = NULL, phone = NULL, email = NULL, fields = '{}', consent = NULL,
       idempotency_key = NULL, request_hash = NULL,
       routing = erase_jsonb(l.routing, t.needles), personal_data_erased_at = ${p.at}
     FROM target t WHERE l.id = t.id
     RETURNING l.id, l.status, l.created_at)
   INSERT INTO lead_events (lead_id, lead_created_at, status, detail, at)
   SELECT id, created_at, status, ${p.detail}, ${p.at} FROM erased
   RETURNING lead_id::text AS id`,
});

/**
 * Deletes up to `limit` digests of erased leads that no source's duplicate
 * window reaches any more at `at` (the longest window of any source, now),
 * oldest first. Returns how many it deleted.
 */
export const PRUNE_ERASED_CONTACTS = defineStatement({
  name: 'lr_prune_erased_contacts',
  params: { at: 'timestamptz', limit: 'int' },
  row: { deleted: 'int' },
  prepared: false,
  sql: (p) => sql`WITH gone AS (
     DELETE FROM erased_contacts WHERE (digest, lead_id) IN (
       SELECT digest, lead_id FROM erased_contacts
       WHERE created_at <= ${p.at}::timestamptz
         - make_interval(hours => (SELECT coalesce(max(duplicate_window_hours), 0) FROM sources))
       ORDER BY created_at LIMIT ${p.limit})
     RETURNING 1)
   SELECT count(*)::int AS deleted FROM gone`,
});
