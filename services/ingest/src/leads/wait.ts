import type { Request, Response } from 'express';
import { MAX_WAIT_SECONDS, OUTCOME_REASONS, type LeadOutcome } from '@leadrouter/api';
import { invalid, type Static, type TerminalStatus } from '@leadrouter/core';
import { LEAD_OUTCOMES, runStatement, sqlPool, type StatementRow } from '@leadrouter/db';
import { amount, amountNumber } from '@leadrouter/money';
import type { AppDeps } from '../deps.js';

/** What a source that waited is told of its lead (ADR 0033): in its own terms only. */
export type Outcome = Static<typeof LeadOutcome>;

/**
 * The seconds a request's `Prefer` header asks to wait for the outcome (`wait=N`, RFC 7240), or undefined when
 * it asks for none (no `wait`, or `wait=0`). Other preferences are ignored, as RFC 7240 says; a `wait` that is not
 * a whole number of seconds from 0 to 30 is refused (422) before anything is recorded: a source asking for
 * `wait=60` learns at once that it will not get it, rather than a `202` it did not expect (ADR 0033).
 */
export function preferredWait(req: Request): number | undefined {
  const header = req.get('prefer');
  if (header === undefined) return undefined;
  for (const preference of header.split(',')) {
    const [token = '', ...rest] = (preference.split(';')[0] ?? '').split('=');
    if (token.trim().toLowerCase() !== 'wait') continue;
    const value = rest
      .join('=')
      .trim()
      .replace(/^"(.*)"$/, '$1');
    const seconds = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
    if (!(seconds <= MAX_WAIT_SECONDS)) {
      throw invalid([
        { field: 'Prefer', message: `wait must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}` },
      ]);
    }
    return seconds === 0 ? undefined : seconds;
  }
  return undefined;
}

/**
 * Waits up to `seconds` for these leads (recorded and committed) of `sourceId` to settle, saying so in
 * `Preference-Applied`: the outcome of each that settled in time (ADR 0033). Without the outcomes' subscription
 * (a test's app) the preference is not applied, and nothing is found.
 */
export async function waitForOutcomes(
  deps: AppDeps,
  res: Response,
  sourceId: string,
  leadIds: readonly string[],
  seconds: number,
): Promise<Map<string, Outcome>> {
  if (!deps.outcomes || leadIds.length === 0) return new Map();
  res.set('Preference-Applied', `wait=${seconds}`);
  const pool = sqlPool(deps.db);
  return deps.outcomes.wait(leadIds, seconds * 1000, async (ids) => {
    const rows = await runStatement(pool, LEAD_OUTCOMES, { ids, sourceId });
    return new Map(rows.flatMap((row) => outcomeOf(row)).map((o) => [o.id, o]));
  });
}

/** A lead's outcome as its source is told it; none while the lead is still queued or routing. */
function outcomeOf(row: StatementRow<typeof LEAD_OUTCOMES>): Outcome[] {
  const status = settledStatus(row.status);
  if (!status) return [];
  const payout = row.payout === null ? {} : { payout: amountNumber(amount(row.payout)) };
  return status === 'delivered'
    ? [{ status, id: row.id, ...payout }]
    : [{ status, id: row.id, ...payout, reason: OUTCOME_REASONS[status] }];
}

/** The final status a lead reached: feedback may have moved a delivered lead on already (converted, returned). */
function settledStatus(status: StatementRow<typeof LEAD_OUTCOMES>['status']): TerminalStatus | undefined {
  switch (status) {
    case 'queued':
    case 'routing':
      return undefined;
    case 'converted':
    case 'returned':
      return 'delivered';
    default:
      return status;
  }
}
