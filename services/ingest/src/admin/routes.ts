import type { Router } from 'express';
import { auctionProblems, auctionSettings, invalid, regexErrors, type Auction, type Static } from '@leadrouter/core';
import { admin as table, operations, type Route as RouteSchema, type RouteInput } from '@leadrouter/api';
import { Prisma, type Db, type Route, type RoutePartner } from '@leadrouter/db';
import { dryRun, parseDryRun } from '@leadrouter/lifecycle';
import { amount, amountNumber, parseAmount } from '@leadrouter/money';
import type { IngestDeps } from '../deps.js';
import { tableRouter } from '../http/bind.js';
import { mapDbError, pageOf, readPage, pageQuery } from './common.js';

/**
 * Regex filters must compile (RE2, ADR 0013); an `auction` is for auction routes only, its floor an amount
 * (ADR 0032): reported with the schema's errors.
 */
function routeProblems(body: unknown) {
  const errors = [
    ...regexErrors((body as { filters?: unknown } | null)?.filters, '/filters'),
    ...auctionProblems(body),
  ];
  const floor = (body as { auction?: { floor?: unknown } | null } | null)?.auction?.floor;
  if (typeof floor === 'number' || typeof floor === 'string') {
    const parsed = parseAmount(floor);
    if (!parsed.ok) errors.push({ field: '/auction/floor', message: parsed.message });
  }
  return errors;
}

/** An auction route's settings as stored (the floor as exact text); null for other strategies or none given. */
function auctionColumn(input: { auction?: RouteInput['auction'] }): Prisma.InputJsonValue | typeof Prisma.DbNull {
  if (!input.auction) return Prisma.DbNull;
  const stored: Auction = {};
  if (input.auction.timeoutMs !== undefined) stored.timeoutMs = input.auction.timeoutMs;
  if (input.auction.floor !== undefined) {
    const parsed = parseAmount(input.auction.floor);
    if (!parsed.ok) throw new Error('auctionColumn: the floor was not checked');
    stored.floor = parsed.amount.toFixed();
  }
  return stored as Prisma.InputJsonValue;
}

type RouteRow = Route & { partners: RoutePartner[] };

export function routeView(r: RouteRow): Static<typeof RouteSchema> {
  return {
    id: r.id,
    name: r.name,
    priority: r.priority,
    filters: r.filters as RouteInput['filters'] & {},
    partners: [...r.partners]
      .sort((a, b) => a.position - b.position)
      .map((p) => ({ partnerId: p.partnerId, weight: p.weight })),
    strategy: r.strategy,
    auction:
      r.strategy === 'auction'
        ? (({ timeoutMs, floor }) => ({ timeoutMs, floor: amountNumber(amount(floor)) }))(
            auctionSettings(r.auction as Auction | null),
          )
        : null,
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
  const { router, bind } = tableRouter('/v1/admin/routes');
  // Every worker drops its cached rules before the answer, so the next lead sees the change (ADR 0009).
  const changed = () => caches?.invalidate('rules');
  const include = { partners: true } as const;

  bind(
    table.createRoute,
    async ({ body: input }) => {
      await checkPartners(db, input.partners);
      const route = await db.route
        .create({
          data: {
            name: input.name,
            priority: input.priority,
            filters: json(input.filters ?? null),
            strategy: input.strategy,
            auction: auctionColumn(input),
            maxDeliveries: input.maxDeliveries ?? 1,
            active: input.active ?? true,
            partners: { create: partnerRows(input.partners) },
          },
          include,
        })
        .catch((err: unknown) => mapDbError(err, 'route'));
      await changed();
      return { status: 201, body: routeView(route) };
    },
    { check: routeProblems },
  );

  // The draft replayed over the last leads: nothing is sent, written or counted (@leadrouter/lifecycle dryRun).
  bind(operations.dryRunRoutes, async ({ body }) => ({
    status: 200,
    body: await dryRun(db, await parseDryRun(db, body)),
  }));

  bind(
    table.listRoutes,
    async ({ query: page }) => ({
      status: 200,
      body: pageOf(await db.route.findMany({ ...pageQuery(page), include }), page, routeView),
    }),
    { query: readPage },
  );

  bind(table.getRoute, async ({ params }) => {
    const route = await db.route
      .findUniqueOrThrow({ where: { id: params.id }, include })
      .catch((err: unknown) => mapDbError(err, 'route'));
    return { status: 200, body: routeView(route) };
  });

  bind(
    table.updateRoute,
    async ({ params: { id }, body: input }) => {
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
              ...(input.auction !== undefined ? { auction: auctionColumn(input) } : {}),
              ...(input.maxDeliveries !== undefined ? { maxDeliveries: input.maxDeliveries } : {}),
              ...(input.active !== undefined ? { active: input.active } : {}),
              ...(input.partners ? { partners: { create: partnerRows(input.partners) } } : {}),
            },
            include,
          });
        })
        .catch((err: unknown) => mapDbError(err, 'route'));
      await changed();
      return { status: 200, body: routeView(route) };
    },
    { check: routeProblems },
  );

  bind(table.deleteRoute, async ({ params }) => {
    await db.route.delete({ where: { id: params.id } }).catch((err: unknown) => mapDbError(err, 'route'));
    await changed();
    return { status: 204 };
  });

  return router;
}
