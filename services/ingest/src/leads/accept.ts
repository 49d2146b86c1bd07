import { AppError, invalid, unavailable, validateLead, type FieldError } from '@leadrouter/core';
import { Prisma, type Source } from '@leadrouter/db';
import type { IngestDeps } from '../deps.js';

export type AcceptResult = { status: 'accepted'; id: string; replay: boolean };

const MAX_IDEMPOTENCY_KEY = 200;

/**
 * Records a lead durably, then enqueues it. The 202 depends only on the
 * PostgreSQL commit: if Redis is away the lead stays `queued` and the
 * worker's sweeper enqueues it when Redis returns.
 */
export async function acceptLead(
  deps: IngestDeps,
  source: Source,
  body: unknown,
  idempotencyKey?: string,
): Promise<AcceptResult> {
  const errors: FieldError[] = [];
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)) {
    errors.push({ field: 'Idempotency-Key', message: `header must be 1–${MAX_IDEMPOTENCY_KEY} characters` });
  }
  const v = validateLead(body);
  if (!v.ok) errors.push(...v.errors);
  if (!v.ok || errors.length > 0) throw invalid(errors);
  const { lead } = v;

  let id: string;
  try {
    const created = await deps.db.lead.create({
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
        events: { create: { status: 'queued' } },
      },
      select: { id: true },
    });
    id = created.id;
  } catch (err) {
    if (idempotencyKey && isUniqueViolation(err)) {
      const first = await deps.db.lead.findUnique({
        where: { sourceId_idempotencyKey: { sourceId: source.id, idempotencyKey } },
        select: { id: true },
      });
      if (first) return { status: 'accepted', id: first.id, replay: true };
    }
    if (err instanceof AppError) throw err;
    deps.log.error({ err: { message: (err as Error).message } }, 'could not record lead');
    throw unavailable('the lead could not be recorded right now; retry shortly', 5, err);
  }

  try {
    await deps.queues.enqueueRoute([id]);
  } catch (err) {
    deps.log.warn(
      { leadId: id, err: { message: (err as Error).message } },
      'enqueue failed; the sweeper will enqueue the lead',
    );
  }
  return { status: 'accepted', id, replay: false };
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}
