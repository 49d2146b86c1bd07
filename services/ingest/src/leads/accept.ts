import { createHash } from 'node:crypto';
import { AppError, invalid, unavailable, validateLead, type FieldError, type NormalisedLead } from '@leadrouter/core';
import { Prisma, type Source } from '@leadrouter/db';
import type { IngestDeps } from '../deps.js';

export type AcceptOutcome = { status: 'accepted'; id: string } | { status: 'duplicate'; id: string };

export const MAX_IDEMPOTENCY_KEY = 200;
/** How long an Idempotency-Key holds (SPEC: 24 h); an older key is released when it is used again. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

/** Validates one lead, including its Idempotency-Key; throws a 422 listing every problem. */
export function checkLead(body: unknown, idempotencyKey: string | undefined): NormalisedLead {
  const errors: FieldError[] = [];
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)) {
    errors.push({ field: 'Idempotency-Key', message: `header must be 1–${MAX_IDEMPOTENCY_KEY} characters` });
  }
  const v = validateLead(body);
  if (!v.ok) errors.push(...v.errors);
  if (!v.ok || errors.length > 0) throw invalid(errors);
  return v.lead;
}

/**
 * Records a lead durably, then enqueues it. The answer depends only on the
 * PostgreSQL commit: if Redis is away the lead stays `queued` and the
 * worker's sweeper enqueues it when Redis returns.
 *
 * Inside one transaction, under advisory locks on the lead's phone and email
 * (so simultaneous posts, on any replica, are serialised): an
 * Idempotency-Key seen in the last 24 h replays the first answer; a phone or
 * email seen within the source's duplicate window is a duplicate; otherwise
 * the lead is inserted with its `queued` event.
 */
export async function acceptLead(
  deps: IngestDeps,
  source: Source,
  lead: NormalisedLead,
  idempotencyKey?: string,
): Promise<AcceptOutcome> {
  const requestHash = idempotencyKey ? fingerprint(lead) : null;
  let outcome: AcceptOutcome;
  try {
    outcome = await deps.db.$transaction(async (tx) => {
      for (const key of lockKeys(lead)) await tx.$executeRaw`SELECT pg_advisory_xact_lock(${key}::bigint)`;

      if (idempotencyKey) {
        const replay = await findByIdempotencyKey(tx, source.id, idempotencyKey);
        if (replay) {
          if (replay.requestHash !== requestHash) throw keyReused();
          return { status: 'accepted', id: replay.id } as const;
        }
      }

      if (source.duplicateWindowHours > 0) {
        const dup = await tx.$queryRaw<{ id: string }[]>`
          SELECT id FROM leads
          WHERE (phone = ${lead.phone} OR email = ${lead.email})
            AND created_at > now() - make_interval(hours => ${source.duplicateWindowHours}::int)
          ORDER BY created_at LIMIT 1`;
        if (dup[0]) return { status: 'duplicate', id: dup[0].id } as const;
      }

      const created = await tx.lead.create({
        data: {
          sourceId: source.id,
          name: lead.name,
          phone: lead.phone,
          email: lead.email,
          geo: lead.geo,
          subSource: lead.source,
          fields: lead.fields,
          consent: lead.consent ?? Prisma.DbNull,
          idempotencyKey: idempotencyKey ?? null,
          requestHash,
          events: { create: { status: 'queued' } },
        },
        select: { id: true },
      });
      return { status: 'accepted', id: created.id } as const;
    });
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (idempotencyKey && isUniqueViolation(err)) {
      // The same key with another phone/email committed first (a different lock).
      const first = await deps.db.lead.findUnique({
        where: { sourceId_idempotencyKey: { sourceId: source.id, idempotencyKey } },
        select: { id: true, requestHash: true },
      });
      if (first && first.requestHash === requestHash) return { status: 'accepted', id: first.id };
      if (first) throw keyReused();
    }
    deps.log.error({ err: { message: (err as Error).message } }, 'could not record lead');
    throw unavailable('the lead could not be recorded right now; retry shortly', 5, err);
  }

  if (outcome.status === 'accepted') {
    try {
      await deps.queues.enqueueRoute([outcome.id]);
    } catch (err) {
      deps.log.warn(
        { leadId: outcome.id, err: { message: (err as Error).message } },
        'enqueue failed; the sweeper will enqueue the lead',
      );
    }
  }
  return outcome;
}

/** The lead holding this key for this source within the window; an expired holder gives the key up. */
async function findByIdempotencyKey(
  tx: Prisma.TransactionClient,
  sourceId: string,
  key: string,
): Promise<{ id: string; requestHash: string | null } | null> {
  const held = await tx.lead.findUnique({
    where: { sourceId_idempotencyKey: { sourceId, idempotencyKey: key } },
    select: { id: true, requestHash: true, createdAt: true },
  });
  if (!held) return null;
  if (held.createdAt.getTime() < Date.now() - IDEMPOTENCY_WINDOW_HOURS * 3600_000) {
    await tx.lead.update({ where: { id: held.id }, data: { idempotencyKey: null } });
    return null;
  }
  return held;
}

const keyReused = () =>
  invalid([
    {
      field: 'Idempotency-Key',
      message: `was already used in the last ${IDEMPOTENCY_WINDOW_HOURS} h for a different lead; use a new key for a new lead`,
    },
  ]);

/** Advisory lock keys (64-bit) for the phone and email, in a fixed order so two posts never deadlock. */
export function lockKeys(lead: Pick<NormalisedLead, 'phone' | 'email'>): bigint[] {
  const keys = [`phone:${lead.phone}`, ...(lead.email ? [`email:${lead.email}`] : [])].map((v) =>
    createHash('sha256').update(v).digest().readBigInt64BE(0),
  );
  return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function fingerprint(lead: NormalisedLead): string {
  return createHash('sha256').update(JSON.stringify(lead)).digest('hex');
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}
