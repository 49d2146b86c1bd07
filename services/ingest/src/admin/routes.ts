import { Router } from 'express';
import { invalid, regexErrors } from '@leadrouter/core';
import { RouteCreate, RouteUpdate, type RouteInput } from '@leadrouter/api';
import { Prisma, type Db, type Route, type RoutePartner } from '@leadrouter/db';
import { dryRun, parseDryRun } from '@leadrouter/operations';
import type { IngestDeps } from '../deps.js';
import { bodyValidator, jsonBody } from '../http/body.js';
import { idParam, mapDbError, pageOf, pageParams, pageQuery } from './common.js';

/** Regex filters must compile (RE2, ADR 0013): reported with the schema's errors. */
const patterns = (body: unknown) => regexErrors((body as { filters?: unknown } | null)?.filters, '/filters');
const validateCreate = bodyValidator<RouteInput>(RouteCreate, patterns);
const validateUpdate = bodyValidator<Partial<RouteInput>>(RouteUpdate, patterns);

type RouteRow = Route & { partners: RoutePartner[] };

export function routeView(r: RouteRow) {
  return {
    id: r.id,
    name: r.name,
    priority: r.priority,
    filters: r.filters,
    partners: [...r.partners]
      .sort((a, b) => a.position - b.position)
      .map((p) => ({ partnerId: p.partnerId, weight: p.weight })),
    strategy: r.strategy as string,
    maxDeliveries: r.maxDeliveries,
    active: r.active,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/** Every partner a route names must exist, once. */
async function checkPartners(db: Db, partners: RouteInput['partners']): Promise<void> {
  const errors: { field: string; message: string }[] = [];
  const seen = new Set<string>();
  partners.forEach((p, i) => {
    if (seen.has(p.partnerId)) errors.push({ field: `/partners/${i}/partnerId`, message: 'is listed twice' });
    seen.add(p.partnerId);
  });
  const found = new Set(
    (await db.partner.findMany({ where: { id: { in: [...seen] } }, select: { id: true } })).map((p) => p.id),
  );
  partners.forEach((p, i) => {
    if (!found.has(p.partnerId))
      errors.push({ field: `/partners/${i}/partnerId`, message: 'is not a known partner id' });
  });
  if (errors.length) throw invalid(errors);
}

const partnerRows = (partners: RouteInput['partners']) =>
  partners.map((p, position) => ({ partnerId: p.partnerId, weight: p.weight ?? 1, position }));

const json = (v: unknown) => (v === null ? Prisma.DbNull : (v as Prisma.InputJsonValue));

export function routesRouter({ db, caches }: IngestDeps): Router {
  const router = Router();
  // Every worker drops its cached rules before the answer, so the next lead sees the change (ADR 0009).
  const changed = () => caches?.invalidate('rules');
  const include = { partners: true } as const;

  router.post('/', jsonBody(), async (req, res) => {
    const input = validateCreate(req.body);
    await checkPartners(db, input.partners);
    const route = await db.route
      .create({
        data: {
          name: input.name,
          priority: input.priority,
          filters: json(input.filters ?? null),
          strategy: input.strategy,
          maxDeliveries: input.maxDeliveries ?? 1,
          active: input.active ?? true,
          partners: { create: partnerRows(input.partners) },
        },
        include,
      })
      .catch((err: unknown) => mapDbError(err, 'route'));
    await changed();
    res.status(201).json(routeView(route));
  });

  // The draft replayed over the last leads: nothing is sent, written or counted (@leadrouter/operations dryRun).
  router.post('/dry-run', jsonBody({ limit: '1mb' }), async (req, res) => {
    res.json(await dryRun(db, await parseDryRun(db, req.body)));
  });

  router.get('/', async (req, res) => {
    const page = pageParams(req);
    res.json(pageOf(await db.route.findMany({ ...pageQuery(page), include }), page, routeView));
  });

  router.get('/:id', async (req, res) => {
    const route = await db.route
      .findUniqueOrThrow({ where: { id: idParam(req, 'route') }, include })
      .catch((err: unknown) => mapDbError(err, 'route'));
    res.json(routeView(route));
  });

  router.patch('/:id', jsonBody(), async (req, res) => {
    const id = idParam(req, 'route');
    const input = validateUpdate(req.body);
    if (input.partners) await checkPartners(db, input.partners);
    const route = await db
      .$transaction(async (tx) => {
        if (input.partners) {
          await tx.routePartner.deleteMany({ where: { routeId: id } });
        }
        return tx.route.update({
          where: { id },
          data: {
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.priority !== undefined ? { priority: input.priority } : {}),
            ...(input.filters !== undefined ? { filters: json(input.filters) } : {}),
            ...(input.strategy !== undefined ? { strategy: input.strategy } : {}),
            ...(input.maxDeliveries !== undefined ? { maxDeliveries: input.maxDeliveries } : {}),
            ...(input.active !== undefined ? { active: input.active } : {}),
            ...(input.partners ? { partners: { create: partnerRows(input.partners) } } : {}),
          },
          include,
        });
      })
      .catch((err: unknown) => mapDbError(err, 'route'));
    await changed();
    res.json(routeView(route));
  });

  router.delete('/:id', async (req, res) => {
    await db.route.delete({ where: { id: idParam(req, 'route') } }).catch((err: unknown) => mapDbError(err, 'route'));
    await changed();
    res.status(204).end();
  });

  return router;
}
