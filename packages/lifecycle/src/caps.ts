import { createHash } from 'node:crypto';
import type { Partner } from '@leadrouter/api';
import type { CapPeriod, Static } from '@leadrouter/core';
import {
  CAP_ADD,
  CAP_USAGE,
  LAST_SALE_PRICES,
  LOCK_KEYS,
  RESET_CAP_COUNTERS,
  runStatement,
  sqlPool,
  sqlTransaction,
  type Db,
  type PartnerCaps,
  type SqlTx,
} from '@leadrouter/db';
import { amount, amountNumber, formatAmount, ZERO, type Amount } from '@leadrouter/money';
import {
  capPeriods,
  cappedPeriods,
  capReserve,
  capsInUse,
  checkCaps,
  hasCaps,
  type CapPeriods,
  type Caps,
  type CapUsage,
} from '@leadrouter/routing';

// The cap counters' use (docs/decisions/0030-cap-counters.md). A partner with caps has one counter row per
// period its limits need; an offer reads them under the partner's advisory lock, checks (`checkCaps`, pure) and
// reserves a slot — a lead, and its expected price against budgets — in the commit that creates the delivery.
// The delivery's end gives the slot back (rejected, dead-lettered) or corrects the price (accepted), in the
// transaction that records it. Periods are those the delivery was created in, on the partner's clock.

/** A partner's caps as the routing package decides on them (budgets exact). */
export function capsOf(p: Omit<PartnerCaps, 'schedule'>): Caps {
  return {
    hourly: p.capHourly,
    daily: p.capDaily,
    weekly: p.capWeekly,
    monthly: p.capMonthly,
    dailyBudget: p.capDailyBudget === null ? null : amount(p.capDailyBudget),
    monthlyBudget: p.capMonthlyBudget === null ? null : amount(p.capMonthlyBudget),
  };
}

/** The advisory lock under which a partner's slots are taken (and its counters reset). */
export function capLockKey(partnerId: string): bigint {
  return createHash('sha256').update(`cap:${partnerId}`).digest().readBigInt64BE(0);
}

/**
 * What a transaction touching cap counters (`checkCapped`, `counterCalls`) announces (`SqlTx.exclusive`): a
 * transaction shared by several leads' (ADR 0038) holds one lead's cap work at most. Two leads' in one would
 * not exclude each other (a partner's advisory lock is the session's: both would read the same counters and
 * take the last slot), and their locks and counter rows, taken lead after lead, would not be in one order
 * across transactions (deadlocks); one lead's are (its locks sorted, its changes one `lr_cap_add`), as alone.
 */
const CAP_WORK = 'cap counters';

/** The partners' lock keys in ascending order: every transaction takes them so, and two never deadlock. */
function capLockKeys(partnerIds: readonly string[]): bigint[] {
  return partnerIds.map(capLockKey).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A partner with caps, as an offer checks it: its id, caps, clock and fixed price (text, exact). */
export interface CappedPartner extends PartnerCaps {
  id: string;
  price: string | null;
}

/**
 * A change to one counter row: leads and amount to add; `create`: the row may
 * be created with these figures (a slot taken, from its seed), else only an
 * existing row is changed.
 */
export interface CounterChange {
  partnerId: string;
  period: CapPeriod;
  start: Date;
  count: number;
  amount: Amount;
  create: boolean;
}

/** A slot taken for one partner: what its delivery reserves, and the counter rows to add to at commit. */
export interface CapReservation {
  partnerId: string;
  /** What the delivery holds against the budgets (`deliveries.cap_amount`), text. */
  reserved: string;
  rows: CounterChange[];
}

/** Each capped partner's check: a reservation to commit with the offer, or the reason it cannot take the lead. */
export type CapDecision = { ok: true; reservation: CapReservation } | { ok: false; reason: string };

/**
 * Checks capped partners for one more lead each, in the caller's transaction:
 * takes their advisory locks (held until it ends, so no other worker takes
 * the same slots meanwhile) and reads their counters for the periods `now`
 * falls in — with the price of each one's last sale when a budget needs it
 * and no fixed price says — in one round trip. A slot is taken only when the
 * caller commits its reservation's rows (`counterCalls`) with the delivery.
 */
export async function checkCapped(
  tx: SqlTx,
  partners: readonly CappedPartner[],
  now: Date,
): Promise<Map<string, CapDecision>> {
  const wanted = partners.map((p) => {
    const caps = capsOf(p);
    return { partner: p, caps, periods: capPeriods(now, p.schedule?.timezone), needed: cappedPeriods(caps) };
  });
  const rows = wanted.flatMap((w) =>
    w.needed.map((period) => ({ id: w.partner.id, period, start: w.periods[period] })),
  );
  const lastPriceOf = wanted
    .filter((w) => w.partner.price === null && (w.caps.dailyBudget !== null || w.caps.monthlyBudget !== null))
    .map((w) => w.partner.id);
  tx.exclusive([CAP_WORK]);
  const [, usageRows, lastPrices = []] = await tx.run([
    tx.call(LOCK_KEYS, { keys: capLockKeys(partners.map((p) => p.id)) }),
    tx.call(CAP_USAGE, {
      partnerIds: rows.map((r) => r.id),
      periods: rows.map((r) => r.period),
      starts: rows.map((r) => r.start),
    }),
    ...(lastPriceOf.length > 0 ? [tx.call(LAST_SALE_PRICES, { partnerIds: lastPriceOf })] : []),
  ]);
  const last = new Map(lastPrices.map((r) => [r.partnerId, r.price === null ? null : amount(r.price)]));
  const decisions = new Map<string, CapDecision>();
  for (const { partner, caps, periods, needed } of wanted) {
    const read = usageRows.filter((r) => r.partnerId === partner.id);
    const usage: CapUsage = Object.fromEntries(
      read.map((r) => [r.period, { count: r.count, amount: amount(r.amount) }]),
    );
    const reserve = capReserve(partner.price === null ? null : amount(partner.price), last.get(partner.id) ?? null);
    const check = checkCaps(caps, usage, reserve);
    if (!check.ok) {
      decisions.set(partner.id, check);
      continue;
    }
    const stored = new Set(read.filter((r) => r.stored).map((r) => r.period));
    decisions.set(partner.id, {
      ok: true,
      reservation: {
        partnerId: partner.id,
        reserved: formatAmount(reserve),
        // A row not there yet starts from its seed (what CAP_USAGE counted of the deliveries), plus this lead.
        rows: needed.map((period) => {
          const seed = stored.has(period) ? { count: 0, amount: ZERO } : usage[period]!;
          const start = periods[period];
          return {
            partnerId: partner.id,
            period,
            start,
            count: seed.count + 1,
            amount: seed.amount.plus(reserve),
            create: true,
          };
        }),
      },
    });
  }
  return decisions;
}

/**
 * The one statement that writes a transaction's counter changes — the slots
 * its offers take, and those its settled deliveries give back or correct —
 * for its commit: changes to the same row summed, rows in key order, so
 * transactions never wait for each other's rows in opposite orders (CAP_ADD).
 * None when there is nothing to change.
 */
export function counterCalls(tx: SqlTx, changes: readonly CounterChange[]): string[] {
  const rows = new Map<string, CounterChange>();
  for (const c of changes) {
    if (c.count === 0 && c.amount.eq(ZERO) && !c.create) continue;
    const key = `${c.partnerId}/${c.period}/${c.start.toISOString()}`;
    const row = rows.get(key);
    rows.set(
      key,
      row
        ? { ...row, count: row.count + c.count, amount: row.amount.plus(c.amount), create: row.create || c.create }
        : c,
    );
  }
  if (rows.size === 0) return [];
  tx.exclusive([CAP_WORK]);
  const all = [...rows.values()];
  return [
    tx.call(CAP_ADD, {
      partnerIds: all.map((r) => r.partnerId),
      periods: all.map((r) => r.period),
      starts: all.map((r) => r.start),
      counts: all.map((r) => r.count),
      amounts: all.map((r) => formatAmount(r.amount)),
      creates: all.map((r) => r.create),
    }),
  ];
}

/** A delivery's hold on its partner's counters: when it was created and what it reserved (text; null: nothing). */
export interface CapHold {
  partner: PartnerCaps & { id: string };
  createdAt: Date;
  capAmount: string | null;
}

/** What to add to the counters a delivery holds: `count` leads and `amount`. */
export interface HoldChange {
  hold: CapHold;
  count: number;
  amount: Amount;
}

/**
 * The changes to the counters of the periods a delivery was created in (those
 * its partner's caps keep now): `count` leads and `amount`, to existing rows
 * only. None when the partner has no caps or there is nothing to add.
 */
export function holdChanges(hold: CapHold, count: number, delta: Amount): CounterChange[] {
  const caps = capsOf(hold.partner);
  if (!hasCaps(caps) || (count === 0 && delta.eq(ZERO))) return [];
  const periods: CapPeriods = capPeriods(hold.createdAt, hold.partner.schedule?.timezone);
  return cappedPeriods(caps).map((period) => ({
    partnerId: hold.partner.id,
    period,
    start: periods[period],
    count,
    amount: delta,
    create: false,
  }));
}

/** What a delivery reserved against its partner's budgets. */
export function reservedOf(hold: Pick<CapHold, 'capAmount'>): Amount {
  return hold.capAmount === null ? ZERO : amount(hold.capAmount);
}

/** A delivery rejected or dead-lettered gives its slot back: its lead and its reservation. */
export function released(hold: CapHold): CounterChange[] {
  return holdChanges(hold, -1, reservedOf(hold).neg());
}

/** A delivery accepted at `price` (text; null: 0) holds the sale's price instead of its reservation. */
export function saleCorrection(hold: CapHold, price: string | null): CounterChange[] {
  return holdChanges(hold, 0, (price === null ? ZERO : amount(price)).minus(reservedOf(hold)));
}

/**
 * Dead letters an operator retried hold their slots again, in the periods they
 * were created in, without a check (as before they were dead-lettered): the
 * operator asked for the lead to be sent.
 */
export function retaken(holds: readonly CapHold[]): CounterChange[] {
  return holds.flatMap((hold) => holdChanges(hold, 1, reservedOf(hold)));
}

/**
 * Forgets a partner's counters, under its advisory lock: its caps or its
 * timezone changed, so the next lead offered to it counts its current periods
 * afresh from its deliveries. Run after the change is committed.
 */
export async function resetCapCounters(db: Db, partnerId: string): Promise<void> {
  await sqlTransaction(sqlPool(db), (tx) =>
    tx.commit([tx.call(LOCK_KEYS, { keys: [capLockKey(partnerId)] }), tx.call(RESET_CAP_COUNTERS, { partnerId })]),
  );
}

/** A partner's caps with what it holds in the periods `now` falls in. */
export interface CapState {
  caps: Caps;
  periods: CapPeriods;
  usage: CapUsage;
}

/**
 * What partners hold in the current periods (`periodsOf`: which; by default
 * those their caps keep counters for), read without a lock, for views and
 * gauges: their counters, or for a period without one, the deliveries
 * counted as its seed would be.
 */
export async function readCapUsage(
  db: Db,
  partners: readonly (PartnerCaps & { id: string })[],
  now: Date,
  periodsOf: (caps: Caps) => readonly CapPeriod[] = cappedPeriods,
): Promise<Map<string, CapState>> {
  const states = partners.map((p) => {
    const caps = capsOf(p);
    return { id: p.id, caps, periods: capPeriods(now, p.schedule?.timezone), needed: periodsOf(caps) };
  });
  const rows = states.flatMap((s) => s.needed.map((period) => ({ id: s.id, period, start: s.periods[period] })));
  const read =
    rows.length === 0
      ? []
      : await runStatement(sqlPool(db), CAP_USAGE, {
          partnerIds: rows.map((r) => r.id),
          periods: rows.map((r) => r.period),
          starts: rows.map((r) => r.start),
        });
  return new Map(
    states.map((s) => [
      s.id,
      {
        caps: s.caps,
        periods: s.periods,
        usage: Object.fromEntries(
          read.filter((r) => r.partnerId === s.id).map((r) => [r.period, { count: r.count, amount: amount(r.amount) }]),
        ),
      },
    ]),
  );
}

/** What the admin API shows of a partner's caps in use (`Partner.capsInUse`). */
export type CapsInUseView = Static<typeof Partner>['capsInUse'];

/**
 * Each partner's limits with what is used and left of them in the current
 * periods, as the admin API shows them (amounts as exact JSON numbers).
 */
export async function capsInUseViews(
  db: Db,
  partners: readonly (PartnerCaps & { id: string })[],
  now = new Date(),
): Promise<Map<string, CapsInUseView>> {
  const states = await readCapUsage(db, partners, now);
  return new Map(
    [...states].map(([id, { caps, usage, periods }]) => {
      const view: Record<string, unknown> = {};
      for (const [limit, use] of Object.entries(capsInUse(caps, usage, periods))) {
        const shown = (v: number | Amount) => (typeof v === 'number' ? v : amountNumber(v));
        view[limit] = {
          limit: shown(use.limit),
          used: shown(use.used),
          remaining: shown(use.remaining),
          periodStart: use.periodStart.toISOString(),
        };
      }
      return [id, view];
    }),
  );
}
