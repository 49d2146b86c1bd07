import type { Router } from 'express';
import { admin as table, type Source as SourceView } from '@leadrouter/api';
import { apiKeyPrefix, generateApiKey, generateSigningSecret, hashApiKey, type Static } from '@leadrouter/core';
import { rotateSourceKey } from '@leadrouter/lifecycle';
import type { Source } from '@leadrouter/db';
import type { IngestDeps } from '../deps.js';
import { tableRouter } from '../http/bind.js';
import { mapDbError, pageOf, readPage, pageQuery } from './common.js';
import { payoutAnswer, sourceMoneyData, sourceMoneyProblems } from './money-terms.js';

/** A source as the admin API shows it: never its key or postback secret (those are shown once). */
export function sourceView(s: Source): Static<typeof SourceView> {
  return {
    id: s.id,
    name: s.name,
    apiKeyPrefix: s.apiKeyPrefix,
    postbackUrl: s.postbackUrl,
    hasPostbackSecret: s.postbackSecret !== null,
    rateLimitPerMinute: s.rateLimitPerMinute,
    duplicateWindowHours: s.duplicateWindowHours,
    payout: payoutAnswer(s),
    clawback: s.clawback,
    active: s.active,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

export function sourcesRouter({ db, caches }: IngestDeps): Router {
  const { router, bind } = tableRouter('/v1/admin/sources');
  // Every replica drops its cached source keys before the answer (ADR 0009).
  const changed = () => caches?.invalidate('sources');

  bind(
    table.createSource,
    async ({ body: input }) => {
      const apiKey = generateApiKey();
      const postbackSecret = generateSigningSecret();
      const source = await db.source
        .create({
          data: {
            name: input.name,
            apiKeyHash: hashApiKey(apiKey),
            apiKeyPrefix: apiKeyPrefix(apiKey),
            postbackUrl: input.postbackUrl ?? null,
            postbackSecret,
            rateLimitPerMinute: input.rateLimitPerMinute ?? null,
            duplicateWindowHours: input.duplicateWindowHours ?? 0,
            active: input.active ?? true,
            ...sourceMoneyData(input),
          },
        })
        .catch((err: unknown) => mapDbError(err, 'source'));
      return { status: 201, body: { ...sourceView(source), apiKey, postbackSecret } };
    },
    { check: sourceMoneyProblems },
  );

  bind(
    table.listSources,
    async ({ query: page }) => ({
      status: 200,
      body: pageOf(await db.source.findMany(pageQuery(page)), page, sourceView),
    }),
    { query: readPage },
  );

  bind(table.getSource, async ({ params }) => {
    const source = await db.source
      .findUniqueOrThrow({ where: { id: params.id } })
      .catch((err: unknown) => mapDbError(err, 'source'));
    return { status: 200, body: sourceView(source) };
  });

  bind(
    table.updateSource,
    async ({ params, body: input }) => {
      const source = await db.source
        .update({
          where: { id: params.id },
          data: {
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.postbackUrl !== undefined ? { postbackUrl: input.postbackUrl } : {}),
            ...(input.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: input.rateLimitPerMinute } : {}),
            ...(input.duplicateWindowHours !== undefined ? { duplicateWindowHours: input.duplicateWindowHours } : {}),
            ...(input.active !== undefined ? { active: input.active } : {}),
            ...sourceMoneyData(input),
          },
        })
        .catch((err: unknown) => mapDbError(err, 'source'));
      await changed();
      return { status: 200, body: sourceView(source) };
    },
    { check: sourceMoneyProblems },
  );

  bind(table.deleteSource, async ({ params: { id } }) => {
    // A source with leads keeps its history: it is deactivated (its key stops working) rather than removed.
    const leads = await db.lead.count({ where: { sourceId: id }, take: 1 });
    if (leads > 0)
      await db.source
        .update({ where: { id }, data: { active: false } })
        .catch((err: unknown) => mapDbError(err, 'source'));
    else await db.source.delete({ where: { id } }).catch((err: unknown) => mapDbError(err, 'source'));
    await changed();
    return { status: 204 };
  });

  bind(table.rotateSourceKey, async ({ params }) => {
    const { source, apiKey } = await rotateSourceKey({ db, ...(caches ? { caches } : {}) }, params.id);
    return { status: 200, body: { ...sourceView(source), apiKey } };
  });

  return router;
}
