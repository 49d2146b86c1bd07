import type { Router } from 'express';
import {
  apiKeyPrefix,
  generateFeedbackKey,
  hashApiKey,
  isValidTimezone,
  partnerHeaderProblems,
  pingProblems,
  pingSettings,
  regexErrors,
  statusPullProblems,
  statusPullSettings,
  type FieldError,
  type Schedule,
  type Ping,
  type Static,
  type StatusPull,
} from '@leadrouter/core';
import { admin, money, type Partner as PartnerView, type PartnerInput, type StatusPullView } from '@leadrouter/api';
import { Prisma, type Db, type Partner } from '@leadrouter/db';
import {
  capsInUseViews,
  instantOf,
  partnerHealth,
  partnerStatus,
  pausePartner,
  requeueParked,
  resetCapCounters,
  resumePartner,
  requestStatusPull,
  rescheduleStatusPull,
  rotatePartnerFeedbackKey,
  type CapsInUseView,
} from '@leadrouter/lifecycle';
import type { IngestDeps } from '../deps.js';
import { tableRouter } from '../http/bind.js';
import { mapDbError, pageOf, readPage, pageQuery } from './common.js';
import { amountAnswer, amountColumn, partnerMoneyProblems } from './money-terms.js';

/**
 * What JSON Schema cannot say: the schedule's timezone must be a real IANA
 * zone, the headers must be ones a partner may set (`partnerHeaderProblems`),
 * regex filters must compile (RE2, ADR 0013), amounts and status maps
 * must be what the ledger takes (ADR 0026), and a ping names no contact data (ADR 0032).
 */
function partnerProblems(body: unknown): FieldError[] {
  if (typeof body !== 'object' || body === null) return [];
  const { schedule, headers, filters, statusPull, ping } = body as {
    schedule?: unknown;
    headers?: unknown;
    filters?: unknown;
    statusPull?: unknown;
    ping?: unknown;
  };
  const errors = [
    ...partnerHeaderProblems(headers),
    ...regexErrors(filters, '/filters'),
    ...partnerMoneyProblems(body),
    ...statusPullProblems(statusPull),
    ...pingProblems(ping),
  ];
  const timezone =
    typeof schedule === 'object' && schedule !== null ? (schedule as { timezone?: unknown }).timezone : undefined;
  if (typeof timezone === 'string' && timezone !== '' && !isValidTimezone(timezone))
    errors.push({
      field: '/schedule/timezone',
      message: 'is not an IANA timezone (e.g. America/New_York, Europe/Paris, UTC)',
    });
  return errors;
}

const json = (v: unknown) => (v === null ? Prisma.DbNull : (v as Prisma.InputJsonValue));

/** The API's partner shape (OpenAPI `PartnerCreate`) as database columns; only what the input names. */
function toData(input: Partial<PartnerInput>): Prisma.PartnerUpdateInput {
  const d: Prisma.PartnerUpdateInput = {};
  if (input.name !== undefined) d.name = input.name;
  if (input.url !== undefined) d.url = input.url;
  if (input.method !== undefined) d.method = input.method;
  if (input.headers !== undefined) d.headers = input.headers;
  if (input.secret !== undefined) d.secret = input.secret;
  if (input.fieldMap !== undefined) d.fieldMap = json(input.fieldMap);
  if (input.acceptWhen !== undefined) d.acceptWhen = json(input.acceptWhen);
  if (input.responseMap !== undefined) d.responseMap = json(input.responseMap);
  if (input.timeoutMs !== undefined) d.timeoutMs = input.timeoutMs;
  if (input.maxAttempts !== undefined) d.maxAttempts = input.maxAttempts;
  if (input.backoff?.delayMs !== undefined) d.backoffDelayMs = input.backoff.delayMs;
  if (input.backoff?.maxDelayMs !== undefined) d.backoffMaxDelayMs = input.backoff.maxDelayMs;
  if (input.caps?.hourly !== undefined) d.capHourly = input.caps.hourly;
  if (input.caps?.daily !== undefined) d.capDaily = input.caps.daily;
  if (input.caps?.weekly !== undefined) d.capWeekly = input.caps.weekly;
  if (input.caps?.monthly !== undefined) d.capMonthly = input.caps.monthly;
  if (input.caps?.dailyBudget !== undefined) d.capDailyBudget = amountColumn(input.caps.dailyBudget);
  if (input.caps?.monthlyBudget !== undefined) d.capMonthlyBudget = amountColumn(input.caps.monthlyBudget);
  if (input.schedule !== undefined) d.schedule = json(input.schedule);
  if (input.filters !== undefined) d.filters = json(input.filters);
  if (input.concurrency !== undefined) d.concurrency = input.concurrency;
  if (input.price !== undefined) d.price = amountColumn(input.price);
  if (input.conversionPrice !== undefined) d.conversionPrice = amountColumn(input.conversionPrice);
  if (input.returns?.windowDays !== undefined) d.returnsWindowDays = input.returns.windowDays;
  if (input.returns?.autoApprove !== undefined) d.returnsAutoApprove = input.returns.autoApprove;
  if (input.statusMap !== undefined) d.statusMap = json(input.statusMap);
  if (input.statusPull !== undefined) d.statusPull = json(input.statusPull);
  if (input.ping !== undefined) d.ping = json(input.ping);
  if (input.pauseAfterFailures !== undefined) d.pauseAfterFailures = input.pauseAfterFailures;
  if (input.active !== undefined) d.active = input.active;
  return d;
}

/** A partner's status pull as the admin API shows it: its settings as they apply, and its last run (ADR 0029). */
export function statusPullView(p: Partner, now = new Date()): Static<typeof StatusPullView> | null {
  if (p.statusPull === null) return null;
  const running = p.statusPullCursor !== null && p.statusPullDueAt !== null && p.statusPullDueAt > now;
  return {
    ...statusPullSettings(p.statusPull as StatusPull),
    lastRunAt: p.statusPullLastRunAt?.toISOString() ?? null,
    ok: p.statusPullOk,
    ...(p.statusPullOk === false && p.statusPullError !== null ? { error: p.statusPullError } : {}),
    updated: p.statusPullUpdated,
    running,
    nextRunAt: p.statusPullDueAt?.toISOString() ?? null,
  };
}

/** A partner as the admin API shows it, with its caps in use now. Its signing secret is never shown again. */
export function partnerView(p: Partner, capsInUse: CapsInUseView): Static<typeof PartnerView> {
  return {
    id: p.id,
    name: p.name,
    url: p.url,
    method: p.method as Static<typeof PartnerView>['method'],
    headers: p.headers as Record<string, string>,
    hasSecret: p.secret !== null,
    fieldMap: p.fieldMap as PartnerInput['fieldMap'] & {},
    acceptWhen: p.acceptWhen as PartnerInput['acceptWhen'] & {},
    responseMap: p.responseMap as PartnerInput['responseMap'] & {},
    timeoutMs: p.timeoutMs,
    maxAttempts: p.maxAttempts,
    backoff: { delayMs: p.backoffDelayMs, maxDelayMs: p.backoffMaxDelayMs },
    caps: {
      hourly: p.capHourly,
      daily: p.capDaily,
      weekly: p.capWeekly,
      monthly: p.capMonthly,
      dailyBudget: amountAnswer(p.capDailyBudget),
      monthlyBudget: amountAnswer(p.capMonthlyBudget),
    },
    capsInUse,
    schedule: p.schedule as PartnerInput['schedule'] & {},
    filters: p.filters as PartnerInput['filters'] & {},
    concurrency: p.concurrency,
    price: amountAnswer(p.price),
    conversionPrice: amountAnswer(p.conversionPrice),
    returns: { windowDays: p.returnsWindowDays, autoApprove: p.returnsAutoApprove },
    statusMap: p.statusMap as Record<string, string> | null,
    statusPull: statusPullView(p),
    ping: p.ping === null ? null : pingSettings(p.ping as Ping),
    feedbackKeyPrefix: p.feedbackKeyPrefix,
    pauseAfterFailures: p.pauseAfterFailures,
    active: p.active,
    status: partnerStatus(p),
    pausedAt: p.pausedAt?.toISOString() ?? null,
    pauseReason: p.pauseReason,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

/** What the cap counters read of a partner: its caps (budgets as exact text) and its clock. */
function capColumns(p: Partner) {
  return {
    id: p.id,
    capHourly: p.capHourly,
    capDaily: p.capDaily,
    capWeekly: p.capWeekly,
    capMonthly: p.capMonthly,
    capDailyBudget: p.capDailyBudget?.toFixed() ?? null,
    capMonthlyBudget: p.capMonthlyBudget?.toFixed() ?? null,
    schedule: p.schedule as Schedule | null,
  };
}

/** The partners as the admin API shows them, with what is used of their caps (one read for all of them). */
async function partnerViews(db: Db, partners: readonly Partner[]): Promise<Static<typeof PartnerView>[]> {
  const inUse = await capsInUseViews(db, partners.map(capColumns));
  return partners.map((p) => partnerView(p, inUse.get(p.id)!));
}

const viewOf = async (db: Db, p: Partner) => (await partnerViews(db, [p]))[0]!;

/**
 * Whether a change of a partner makes its cap counters wrong: the periods they
 * are kept for (the limits it has) or its clock changed. Its counters are then
 * forgotten, and counted afresh from its deliveries by the next lead (ADR 0030).
 */
function countersStale(before: Partner, after: Partner): boolean {
  const kept = (p: Partner) => {
    const c = capColumns(p);
    return [
      c.capHourly !== null,
      c.capDaily !== null || c.capDailyBudget !== null,
      c.capWeekly !== null,
      c.capMonthly !== null || c.capMonthlyBudget !== null,
      c.schedule?.timezone ?? 'UTC',
    ].join();
  };
  return kept(before) !== kept(after);
}

export function partnersRouter({ db, agents, queues, caches }: IngestDeps): Router {
  const { router, bind } = tableRouter('/v1/admin/partners');
  const table = { ...admin, ...money };
  // Every worker drops its cached rules before the answer, so the next lead sees the change (ADR 0009).
  const changed = () => caches?.invalidate('rules');

  bind(
    table.createPartner,
    async ({ body: input }) => {
      // Its feedback key, shown once: only its hash and prefix are stored.
      const feedbackKey = generateFeedbackKey();
      const data = {
        ...toData(input),
        feedbackKeyHash: hashApiKey(feedbackKey),
        feedbackKeyPrefix: apiKeyPrefix(feedbackKey),
      } as Prisma.PartnerCreateInput;
      const partner = await db.partner.create({ data }).catch((err: unknown) => mapDbError(err, 'partner'));
      await changed();
      return { status: 201, body: { ...(await viewOf(db, partner)), feedbackKey } };
    },
    { check: partnerProblems },
  );

  bind(
    table.listPartners,
    async ({ query: page }) => {
      const partners = await db.partner.findMany(pageQuery(page));
      const views = new Map((await partnerViews(db, partners)).map((v) => [v.id, v]));
      return { status: 200, body: pageOf(partners, page, (p) => views.get(p.id)!) };
    },
    { query: readPage },
  );

  bind(table.getPartner, async ({ params }) => {
    const partner = await db.partner
      .findUniqueOrThrow({ where: { id: params.id } })
      .catch((err: unknown) => mapDbError(err, 'partner'));
    return { status: 200, body: await viewOf(db, partner) };
  });

  bind(
    table.updatePartner,
    async ({ params, body: input }, req) => {
      const before =
        input.caps !== undefined || input.schedule !== undefined
          ? await db.partner.findUnique({ where: { id: params.id } })
          : null;
      let partner = await db.partner
        .update({ where: { id: params.id }, data: toData(input) })
        .catch((err: unknown) => mapDbError(err, 'partner'));
      if (before && countersStale(before, partner)) await resetCapCounters(db, partner.id);
      // A new interval counts from the last pull (ADR 0029).
      if (input.statusPull !== undefined) {
        await rescheduleStatusPull(db, partner.id);
        partner = await db.partner.findUniqueOrThrow({ where: { id: partner.id } });
      }
      await changed();
      // Reactivated: the retries that waited while it was inactive are due now (unless it is paused).
      if (input.active === true) await requeueParked({ db, queues, log: req.log }, partner.id);
      return { status: 200, body: await viewOf(db, partner) };
    },
    { check: partnerProblems },
  );

  bind(table.deletePartner, async ({ params: { id } }) => {
    // A partner with deliveries keeps their history: it is deactivated rather than removed.
    const deliveries = await db.delivery.count({ where: { partnerId: id }, take: 1 });
    if (deliveries > 0)
      await db.partner
        .update({ where: { id }, data: { active: false } })
        .catch((err: unknown) => mapDbError(err, 'partner'));
    else await db.partner.delete({ where: { id } }).catch((err: unknown) => mapDbError(err, 'partner'));
    await changed();
    return { status: 204 };
  });

  bind(table.testPartner, async ({ params, body }) => {
    const partner = await db.partner
      .findUniqueOrThrow({ where: { id: params.id } })
      .catch((err: unknown) => mapDbError(err, 'partner'));
    // The delivery package (got and all) is loaded by the first test, not at start: the lead API sends nothing.
    const { testPartner } = await import('./partner-test.js');
    return {
      status: 200,
      body: await testPartner(partner, body, typeof agents === 'function' ? await agents() : agents),
    };
  });

  // `{reason?}`: new leads skip the partner and its retries wait, as after the circuit breaker, until it is resumed.
  bind(table.pausePartner, async ({ params, body }) => {
    const reason = body && typeof body === 'object' && 'reason' in body ? body.reason : undefined;
    const partner = await pausePartner({ db, ...(caches ? { caches } : {}) }, params.id, reason);
    return { status: 200, body: await viewOf(db, partner) };
  });

  // `?since=` (default: the last 24 h): outcomes, success rate, last error, and the caps in use now.
  bind(
    table.getPartnerHealth,
    async ({ params, query: since }) => ({ status: 200, body: await partnerHealth(db, params.id, since) }),
    { query: readSince },
  );

  bind(table.resumePartner, async ({ params }, req) => {
    // The retries that waited while it was paused are due now (unless it is inactive).
    const { partner, requeued } = await resumePartner(
      { db, queues, log: req.log, ...(caches ? { caches } : {}) },
      params.id,
    );
    return { status: 200, body: { ...(await viewOf(db, partner)), requeued } };
  });

  // Makes its next status pull due now (a worker starts it within a second or two); 409 while one runs.
  bind(table.runStatusPull, async ({ params }) => {
    await requestStatusPull(db, params.id);
    const partner = await db.partner
      .findUniqueOrThrow({ where: { id: params.id } })
      .catch((err: unknown) => mapDbError(err, 'partner'));
    return { status: 202, body: statusPullView(partner)! };
  });

  bind(table.rotatePartnerFeedbackKey, async ({ params }) => {
    const { partner, feedbackKey } = await rotatePartnerFeedbackKey(db, params.id);
    // The old key stops at once on every replica (the ingest caches partners by feedback key).
    await changed();
    return { status: 200, body: { ...(await viewOf(db, partner)), feedbackKey } };
  });

  return router;
}

/** A partner's health's `since` (a date-time, as the schema accepted it); default: 24 hours ago. */
function readSince(query: { since?: string }, problems: FieldError[]): Date {
  return instantOf(query.since, problems, 'since') ?? new Date(Date.now() - 24 * 3600_000);
}
