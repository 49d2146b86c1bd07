import type { LeadStatus } from '@leadrouter/core';
import type { Prisma } from '@leadrouter/db';
import type { DeliverJob } from '@leadrouter/queue';
import type { Skipped } from '@leadrouter/routing';

type Tx = Prisma.TransactionClient;

/** What the lead's routing decision left in `leads.routing`. */
export interface RoutingRecord {
  routeId?: string;
  routeName?: string;
  maxDeliveries: number;
  candidates: string[];
  skipped: Skipped[];
  reason?: string;
}

/** Takes the lead's row lock: every change to a lead's deliveries happens under it. */
export async function lockLead(
  tx: Tx,
  leadId: string,
): Promise<{ status: LeadStatus; routing: RoutingRecord | null } | null> {
  const rows = await tx.$queryRaw<{ status: LeadStatus; routing: RoutingRecord | null }[]>`
    SELECT status, routing FROM leads WHERE id = ${leadId}::uuid FOR UPDATE`;
  return rows[0] ?? null;
}

export async function setStatus(
  tx: Tx,
  leadId: string,
  status: LeadStatus,
  partnerId?: string,
  detail?: Prisma.InputJsonValue,
): Promise<void> {
  await tx.lead.update({ where: { id: leadId }, data: { status } });
  await tx.leadEvent.create({ data: { leadId, status, partnerId: partnerId ?? null, ...(detail ? { detail } : {}) } });
}

/**
 * Moves a routing lead forward, under its row lock: offers it to the next
 * candidates until `maxDeliveries` accept (waterfall on rejection or dead
 * letter), and settles its final status once nothing is pending and nothing
 * is left to try. Idempotent: running it twice changes nothing the second time.
 * Returns the delivery jobs to enqueue after commit.
 */
export async function advanceLocked(tx: Tx, leadId: string, routing: RoutingRecord, now: Date): Promise<DeliverJob[]> {
  const deliveries = await tx.delivery.findMany({ where: { leadId }, select: { partnerId: true, status: true } });
  const accepted = deliveries.filter((d) => d.status === 'accepted');
  const pending = deliveries.filter((d) => d.status === 'pending').length;
  const tried = new Set(deliveries.map((d) => d.partnerId));

  const jobs: DeliverJob[] = [];
  let need = routing.maxDeliveries - accepted.length - pending;
  for (const partnerId of routing.candidates) {
    if (need <= 0) break;
    if (tried.has(partnerId)) continue;
    const partner = await tx.partner.findUnique({ where: { id: partnerId }, select: { active: true, pausedAt: true } });
    if (!partner || !partner.active || partner.pausedAt) continue;
    const delivery = await tx.delivery.create({
      data: { leadId, partnerId, nextAttemptAt: now },
      select: { id: true },
    });
    jobs.push({ deliveryId: delivery.id, attempt: 1 });
    need--;
  }

  if (pending + jobs.length === 0) {
    const final: LeadStatus =
      accepted.length > 0
        ? 'delivered'
        : deliveries.some((d) => d.status === 'dead_lettered')
          ? 'dead_lettered'
          : deliveries.some((d) => d.status === 'rejected')
            ? 'unsold'
            : 'unmatched';
    await setStatus(tx, leadId, final, final === 'delivered' ? accepted[0]?.partnerId : undefined);
  }
  return jobs;
}
