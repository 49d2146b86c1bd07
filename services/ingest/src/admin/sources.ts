import { Router } from 'express';
import { apiKeyPrefix, generateApiKey, generateSigningSecret, hashApiKey } from '@leadrouter/core';
import { SourceCreate, SourceUpdate, type SourceInput } from '@leadrouter/api';
import type { Source } from '@leadrouter/db';
import type { IngestDeps } from '../deps.js';
import { bodyValidator, jsonBody } from '../http/body.js';
import { idParam, mapDbError, pageOf, pageParams, pageQuery } from './common.js';

const validateCreate = bodyValidator<SourceInput>(SourceCreate);
const validateUpdate = bodyValidator<Partial<SourceInput>>(SourceUpdate);

/** A source as the admin API shows it: never its key or postback secret (those are shown once). */
export function sourceView(s: Source) {
  return {
    id: s.id,
    name: s.name,
    apiKeyPrefix: s.apiKeyPrefix,
    postbackUrl: s.postbackUrl,
    hasPostbackSecret: s.postbackSecret !== null,
    rateLimitPerMinute: s.rateLimitPerMinute,
    duplicateWindowHours: s.duplicateWindowHours,
    active: s.active,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

export function sourcesRouter({ db, caches }: IngestDeps): Router {
  const router = Router();
  // Every replica drops its cached source keys before the answer (ADR 0009).
  const changed = () => caches?.invalidate('sources');

  router.post('/', jsonBody(), async (req, res) => {
    const input = validateCreate(req.body);
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
        },
      })
      .catch((err: unknown) => mapDbError(err, 'source'));
    res.status(201).json({ ...sourceView(source), apiKey, postbackSecret });
  });

  router.get('/', async (req, res) => {
    const page = pageParams(req);
    res.json(pageOf(await db.source.findMany(pageQuery(page)), page, sourceView));
  });

  router.get('/:id', async (req, res) => {
    const source = await db.source
      .findUniqueOrThrow({ where: { id: idParam(req, 'source') } })
      .catch((err: unknown) => mapDbError(err, 'source'));
    res.json(sourceView(source));
  });

  router.patch('/:id', jsonBody(), async (req, res) => {
    const id = idParam(req, 'source');
    const input = validateUpdate(req.body);
    const source = await db.source
      .update({
        where: { id },
        data: {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.postbackUrl !== undefined ? { postbackUrl: input.postbackUrl } : {}),
          ...(input.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: input.rateLimitPerMinute } : {}),
          ...(input.duplicateWindowHours !== undefined ? { duplicateWindowHours: input.duplicateWindowHours } : {}),
          ...(input.active !== undefined ? { active: input.active } : {}),
        },
      })
      .catch((err: unknown) => mapDbError(err, 'source'));
    await changed();
    res.json(sourceView(source));
  });

  router.delete('/:id', async (req, res) => {
    const id = idParam(req, 'source');
    // A source with leads keeps its history: it is deactivated (its key stops working) rather than removed.
    const leads = await db.lead.count({ where: { sourceId: id }, take: 1 });
    if (leads > 0)
      await db.source
        .update({ where: { id }, data: { active: false } })
        .catch((err: unknown) => mapDbError(err, 'source'));
    else await db.source.delete({ where: { id } }).catch((err: unknown) => mapDbError(err, 'source'));
    await changed();
    res.status(204).end();
  });

  router.post('/:id/rotate-key', async (req, res) => {
    const apiKey = generateApiKey();
    const source = await db.source
      .update({
        where: { id: idParam(req, 'source') },
        data: { apiKeyHash: hashApiKey(apiKey), apiKeyPrefix: apiKeyPrefix(apiKey) },
      })
      .catch((err: unknown) => mapDbError(err, 'source'));
    await changed();
    res.json({ ...sourceView(source), apiKey });
  });

  return router;
}
