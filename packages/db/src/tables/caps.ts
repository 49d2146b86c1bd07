import { defineStatement, sql, type SqlFragment } from '../sql.js';

// The cap counters (docs/decisions/0030-cap-counters.md): one row per partner, period (hour, day, week, month)
// and period start, holding the leads the partner has pending or accepted from that period (`count`) and what
// they hold against its budgets (`amount`: the price reserved while pending, the sale's price once accepted).
// Kept only for partners with caps, and only for the periods their limits need. A reservation reads the rows
// under the partner's advisory lock (CAP_USAGE) and adds to them in the offer's commit (CAP_RESERVE); releases
// and corrections add to the rows that exist (CAP_ADJUST). Writers take the rows in key order: no deadlock.

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

/** Counter rows and what to add to each: `counts[i]` leads and `amounts[i]` (signed). */
interface CounterDeltas {
  partnerIds: Param;
  periods: Param;
  starts: Param;
  counts: Param;
  amounts: Param;
}
type Param = Parameters<typeof sql>[1];

/**
 * Adds to counter rows in key order (so two writers never wait for each other's rows in opposite orders);
 * `only` narrows the rows written. Neither figure goes below 0.
 */
function addToCounters(p: CounterDeltas, only: SqlFragment): SqlFragment {
  return sql`INSERT INTO cap_counters AS c (partner_id, period, period_start, count, amount)
   SELECT a.partner_id, a.period, a.period_start, a.count, a.amount
   FROM unnest(${p.partnerIds}, ${p.periods}, ${p.starts}, ${p.counts}, ${p.amounts})
     AS a (partner_id, period, period_start, count, amount)
   WHERE ${only}
   ORDER BY a.partner_id, a.period, a.period_start
   ON CONFLICT (partner_id, period, period_start) DO UPDATE SET
     count = greatest(c.count + excluded.count, 0),
     amount = greatest(c.amount + excluded.amount, 0)`;
}

const counterDeltas = {
  partnerIds: 'uuid[]',
  periods: '"CapPeriod"[]',
  starts: 'timestamptz[]',
  counts: 'int[]',
  amounts: 'numeric[]',
} as const;

/**
 * Takes slots, in the commit of the offers that take them, under the partners' advisory locks held since
 * CAP_USAGE read the rows: adds to each row, or creates it with what is given — the seed CAP_USAGE counted,
 * plus the reservation — when it did not exist.
 */
export const CAP_RESERVE = defineStatement({
  name: 'lr_cap_reserve',
  params: counterDeltas,
  sql: (p) => addToCounters(p, sql`TRUE`),
});

/**
 * Gives slots back or corrects amounts, without the partners' locks (it never takes a slot that was not taken):
 * a rejected or dead-lettered delivery's lead and reservation (negative), an accepted one's sale price for its
 * reservation, an operator's retry of a dead letter. Rows that do not exist (a period not counted: the partner
 * had no cap then, or its counters were reset since) are left alone.
 */
export const CAP_ADJUST = defineStatement({
  name: 'lr_cap_adjust',
  params: counterDeltas,
  sql: (p) =>
    addToCounters(
      p,
      sql`EXISTS (SELECT 1 FROM cap_counters e
        WHERE e.partner_id = a.partner_id AND e.period = a.period AND e.period_start = a.period_start)`,
    ),
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
