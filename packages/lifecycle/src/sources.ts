import { apiKeyPrefix, generateApiKey, hashApiKey, notFound } from '@leadrouter/core';
import { Prisma, type Db, type Source } from '@leadrouter/db';
import type { CacheInvalidation } from './partners.js';

/**
 * Gives a source a new API key; the old one stops working at once (every
 * replica drops its cached keys). The key is returned once, to be shown once:
 * only its hash and prefix are stored.
 */
export async function rotateSourceKey(
  deps: { db: Db; caches?: CacheInvalidation },
  id: string,
): Promise<{ source: Source; apiKey: string }> {
  const apiKey = generateApiKey();
  let source: Source;
  try {
    source = await deps.db.source.update({
      where: { id },
      data: { apiKeyHash: hashApiKey(apiKey), apiKeyPrefix: apiKeyPrefix(apiKey) },
    });
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025') throw notFound('source');
    throw err;
  }
  await deps.caches?.invalidate('sources');
  return { source, apiKey };
}
