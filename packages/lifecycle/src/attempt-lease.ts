import type { PartnerRow } from '@leadrouter/db';

/**
 * What an attempt's lease adds to its partner's request timeout: the time to send once the lease is taken, and
 * to record the answer. The partner's slot of a worker that died mid-request expires after the same (ADR 0001,
 * "Isolation"), so the lease does not delay the redelivery after a crash beyond what the slot already did.
 */
export const ATTEMPT_LEASE_MARGIN_MS = 5_000;

/**
 * At least this much of an attempt's lease must be left beyond the partner's timeout when the request goes
 * out; less (a first attempt whose routing commit waited long), and the lease is taken again first.
 */
export const ATTEMPT_LEASE_MIN_LEFT_MS = 2_500;

/**
 * How long an attempt of a delivery to this partner is leased to the worker making it: while the lease runs, no
 * other job sends the delivery (the delivery's due time, `next_attempt_at`, is the lease's end: the sweeper
 * does not take it for lost either); when it runs out with no answer recorded, the worker is taken for dead and
 * the attempt is made again, with the same Idempotency-Key (ADR 0001, "At-least-once delivery").
 */
export function attemptLeaseUntil(partner: Pick<PartnerRow, 'timeoutMs'>, from: Date): Date {
  return new Date(from.getTime() + partner.timeoutMs + ATTEMPT_LEASE_MARGIN_MS);
}

/**
 * The deliveries whose attempt this process is making (from the lease taken until the answer is recorded or
 * the attempt failed), by delivery id. A job of this process for one of them (BullMQ handing a stalled job back
 * to the same worker, a route job's repeat putting the delivery on the queue) waits for it, even past the
 * lease: the attempt is still in flight, or its answer still waiting to be recorded.
 */
const inFlightHere = new Set<string>();

/** Whether this process is making an attempt of the delivery. */
export function inFlightInThisProcess(deliveryId: string): boolean {
  return inFlightHere.has(deliveryId);
}

/** Marks the delivery's attempt as made by this process until `done` settles. */
export async function whileInFlight<T>(deliveryId: string, done: () => Promise<T>): Promise<T> {
  inFlightHere.add(deliveryId);
  try {
    return await done();
  } finally {
    inFlightHere.delete(deliveryId);
  }
}
