import type { Request, Router } from 'express';
import { money as table } from '@leadrouter/api';
import {
  approveReturn,
  listReturns,
  readReturnQuery,
  rejectReturn,
  type ReturnParams,
  type ReturnResult,
} from '@leadrouter/lifecycle';
import type { PostbackJob } from '@leadrouter/queue';
import type { FieldError } from '@leadrouter/core';
import type { IngestDeps } from '../deps.js';
import { tableRouter } from '../http/bind.js';

/** Enqueues the postbacks a committed decision wrote; those Redis does not take are the sweeper's to send. */
export async function enqueuePostbacks(deps: IngestDeps, req: Request, jobs: PostbackJob[]): Promise<void> {
  try {
    for (const job of jobs) await deps.queues.enqueuePostback(job);
  } catch (err) {
    req.log.warn({ err: { message: (err as Error).message } }, 'postbacks not enqueued; the sweeper will send them');
  }
}

/** The returns queue (ADR 0026): `GET /v1/admin/returns`, approve, reject. */
export function returnsRouter(deps: IngestDeps): Router {
  const { router, bind } = tableRouter('/v1/admin/returns');
  const decided = async (req: Request, result: ReturnResult) => {
    await enqueuePostbacks(deps, req, result.postbacks);
    return { status: 200 as const, body: result.view };
  };
  bind(table.listReturns, async ({ query }) => ({ status: 200, body: await listReturns(deps.db, query) }), {
    query: (params: ReturnParams, problems: FieldError[]) => readReturnQuery(deps.db, params, problems),
  });
  bind(table.approveReturn, async ({ params }, req) => decided(req, await approveReturn(deps, params.id)));
  bind(table.rejectReturn, async ({ params, body }, req) =>
    decided(req, await rejectReturn(deps, params.id, body.reason)),
  );
  return router;
}
