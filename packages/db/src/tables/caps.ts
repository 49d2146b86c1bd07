import { defineStatement, sql } from '../sql.js';

// The cap counters (docs/decisions/0030-cap-counters.md): one row per partner, period (hour, day, week, month)
// and period start, holding the leads the partner has pending or accepted from that period (`count`) and what
// they hold against its budgets (`amount`: the price reserved while pending, the sale's price once accepted).
// Kept only for partners with caps, and only for the periods their limits need. A reservation reads the rows
// under the partner's advisory lock (CAP_USAGE) and adds to them in the offer's commit; releases and corrections
// add to the rows that exist; each transaction's changes are one CAP_ADD, which takes rows in key order.

/** What a delivery holds against its partner's budgets as the counters' seed sums it: sale price, else reserved. */
const HELD_AMOUNT = sql`CASE WHEN d.status::text = 'accepted' THEN coalesce(d.price, 0) ELSE coalesce(d.cap_amount, 0) END`;

/**
 * What each partner holds in each period (`partnerIds[i]`, `periods[i]` starting at `starts[i]`), in the
 * order asked: its counter row's figures (`stored`), or — for a period without a row yet (its first lead, or
 * caps just set) — the seed, counted from the partner's deliveries pending or accepted since the start, through
 * deliveries(partner_id, created_at); the seed's count runs only for a missing row.
 */
export const CAP_USAGE = defineStatement({
  name: 'lr_cap_usage',
  params: { partnerIds: 'uuid[]', periods: '"CapPeriod"[]', starts: 'timestamptz[]' },
  row: { partnerId: 'text', period: '"CapPeriod"', count: 'int', amount: 'text', stored: 'boolean' },
  sql: (p) => sql`SELECT w.partner_id::text AS "partnerId", w.period, coalesce(c.count, s.count) AS count,
          coalesce(c.amount, s.amount)::text AS amount, c.partner_id IS NOT NULL AS stored
   FROM unnest(${p.partnerIds}, ${p.periods}, ${p.starts}) WITH ORDINALITY AS w (partner_id, period, period_start, n)
   LEFT JOIN cap_counters c
     ON c.partner_id = w.partner_id AND c.period = w.period AND c.period_start = w.period_start
   CROSS JOIN LATERAL (
     SELECT count(*)::int AS count, coalesce(sum(${HELD_AMOUNT}), 0)::numeric(14, 4) AS amount
     FROM deliveries d
     WHERE c.partner_id IS NULL AND d.partner_id = w.partner_id AND d.created_at >= w.period_start
       AND d.status::text IN ('pending', 'accepted') -- as text: no plan may walk a (partner_id, status) index
   ) s
   ORDER BY w.n`,
});

/** The price of each partner's latest sale (null: none, or none priced), for reserving against its budgets. */
export const LAST_SALE_PRICES = defineStatement({
  name: 'lr_last_sale_prices',
  params: { partnerIds: 'uuid[]' },
  row: { partnerId: 'text', price: 'text | null' },
  sql: (p) => sql`SELECT w.id::text AS "partnerId",
          (SELECT d.price::text FROM deliveries d
           WHERE d.partner_id = w.id AND d.created_at < 'infinity' -- both in deliveries(partner_id, created_at)
             AND d.status::text = 'accepted' AND d.price IS NOT NULL
           ORDER BY d.created_at DESC LIMIT 1) AS price
   FROM unnest(${p.partnerIds}) AS w (id)`,
});

/**
 * Adds to counter rows (`counts[i]` leads and `amounts[i]`, signed), all of one transaction's in one statement,
 * in key order — so two writers never hold rows the other waits for, whatever they change. A row that does
 * not exist is created with the figures given when `creates[i]` (a slot taken: the seed CAP_USAGE counted plus
 * the reservation, under the partner's advisory lock held since that read), and left alone otherwise (a slot
 * given back, a sale's price for its reservation, a dead letter retried: a period not counted — the partner had
 * no cap then, or its counters were reset since — stays uncounted). Neither figure goes below 0.
 */
export const CAP_ADD = defineStatement({
  name: 'lr_cap_add',
  params: {
    partnerIds: 'uuid[]',
    periods: '"CapPeriod"[]',
    starts: 'timestamptz[]',
    counts: 'int[]',
    amounts: 'numeric[]',
    creates: 'boolean[]',
  },
  sql: (p) => sql`INSERT INTO cap_counters AS c (partner_id, period, period_start, count, amount)
   SELECT a.partner_id, a.period, a.period_start, a.count, a.amount
   FROM unnest(${p.partnerIds}, ${p.periods}, ${p.starts}, ${p.counts}, ${p.amounts}, ${p.creates})
     AS a (partner_id, period, period_start, count, amount, creates)
   -- A probe of the key per row (LIMIT 1: never flattened into a join that could read the whole table)
   LEFT JOIN LATERAL (SELECT TRUE AS present FROM cap_counters e
     WHERE e.partner_id = a.partner_id AND e.period = a.period AND e.period_start = a.period_start LIMIT 1) e ON TRUE
   WHERE a.creates OR e.present
   ORDER BY a.partner_id, a.period, a.period_start
   ON CONFLICT (partner_id, period, period_start) DO UPDATE SET
     count = greatest(c.count + excluded.count, 0),
     amount = greatest(c.amount + excluded.amount, 0)`,
});

/**
 * Forgets a partner's counters (its caps or timezone changed): the next lead offered to it counts its periods
 * again from its deliveries (CAP_USAGE's seed). Run under the partner's advisory lock.
 */
export const RESET_CAP_COUNTERS = defineStatement({
  name: 'lr_reset_cap_counters',
  params: { partnerId: 'uuid' },
  prepared: false,
  sql: (p) => sql`DELETE FROM cap_counters WHERE partner_id = ${p.partnerId}`,
});

/**
 * Housekeeping: counters of periods that started before `before` (long over: nothing is checked against them,
 * and a delivery of theirs that settles later finds no row to change). Returns how many it deleted.
 */
export const DELETE_OLD_CAP_COUNTERS = defineStatement({
  name: 'lr_delete_old_cap_counters',
  params: { before: 'timestamptz' },
  row: { deleted: 'int' },
  prepared: false,
  sql: (p) => sql`WITH gone AS (DELETE FROM cap_counters WHERE period_start < ${p.before} RETURNING 1)
   SELECT count(*)::int AS deleted FROM gone`,
});
