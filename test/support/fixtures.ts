// Rows written straight to PostgreSQL for tests of the operations (dead
// letters, lead search): states that would take a real partner and many
// seconds to reach through the worker.
import { randomBytes, randomInt } from 'node:crypto';
import type { DeliveryStatus, LeadStatus } from '@leadrouter/core';
import type { Db } from '@leadrouter/db';

const hex = (n = 4) => randomBytes(n).toString('hex');

export class Fixtures {
  constructor(private readonly db: Db) {}

  source(name = `source-${hex()}`) {
    return this.db.source.create({
      data: { name, apiKeyHash: randomBytes(32).toString('hex'), apiKeyPrefix: 'lr_test' },
    });
  }

  partner(data: { name?: string; active?: boolean; pausedAt?: Date | null; maxAttempts?: number } = {}) {
    return this.db.partner.create({
      data: { name: `partner-${hex()}`, url: 'http://127.0.0.1:9/leads', ...data },
    });
  }

  /** A lead as routed by a route with `maxDeliveries` (1: exclusive). */
  lead(opts: { sourceId: string; status?: LeadStatus; maxDeliveries?: number; createdAt?: Date; geo?: string }) {
    return this.db.lead.create({
      data: {
        sourceId: opts.sourceId,
        status: opts.status ?? 'routing',
        name: 'Jane Fixture',
        phone: `+1415555${String(randomInt(0, 10_000)).padStart(4, '0')}`,
        email: `jane.${hex()}@example.com`,
        geo: opts.geo ?? 'US',
        routing: { routeName: 'fixture', maxDeliveries: opts.maxDeliveries ?? 1, candidates: [], decisions: [] },
        ...(opts.createdAt ? { createdAt: opts.createdAt } : {}),
      },
    });
  }

  delivery(opts: {
    leadId: string;
    partnerId: string;
    status: DeliveryStatus;
    attempts?: number;
    deadLetteredAt?: Date;
    lastError?: string;
  }) {
    const dead = opts.status === 'dead_lettered' || opts.status === 'superseded';
    return this.db.delivery.create({
      data: {
        leadId: opts.leadId,
        partnerId: opts.partnerId,
        status: opts.status,
        attempts: opts.attempts ?? (dead ? 2 : 1),
        lastError: opts.lastError ?? (dead ? 'HTTP 502' : null),
        deadLetteredAt: dead ? (opts.deadLetteredAt ?? new Date()) : null,
        nextAttemptAt: opts.status === 'pending' ? new Date() : null,
      },
    });
  }

  /** A dead-lettered lead: one delivery, exhausted; the lead `dead_lettered` unless said otherwise. */
  async deadLetter(opts: {
    sourceId: string;
    partnerId: string;
    maxDeliveries?: number;
    leadStatus?: LeadStatus;
    at?: Date;
    attempts?: number;
  }) {
    const lead = await this.lead({
      sourceId: opts.sourceId,
      status: opts.leadStatus ?? 'dead_lettered',
      maxDeliveries: opts.maxDeliveries ?? 1,
    });
    const delivery = await this.delivery({
      leadId: lead.id,
      partnerId: opts.partnerId,
      status: 'dead_lettered',
      attempts: opts.attempts ?? 2,
      ...(opts.at ? { deadLetteredAt: opts.at } : {}),
    });
    return { lead, delivery };
  }
}
