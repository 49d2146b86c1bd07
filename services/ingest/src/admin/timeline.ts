import type { operations, QueryOf } from '@leadrouter/api';
import type { FieldError } from '@leadrouter/core';
import { instantOf } from '@leadrouter/lifecycle';
import { LEAD_TIMELINE, runStatement, sqlPool, type Db } from '@leadrouter/db';

export const TIMELINE_STEPS = { minute: 60_000, hour: 3600_000 } as const;
export type TimelineStep = keyof typeof TIMELINE_STEPS;
/** At most this many points in one answer (a day by minute, two months by hour). */
export const MAX_POINTS = 1500;

export interface TimelineQuery {
  since: Date;
  until: Date;
  step: TimelineStep;
}

export interface Timeline {
  since: string;
  until: string;
  step: TimelineStep;
  /** One point per step from `since` (rounded down to the step) to `until`, empty steps included. */
  points: { at: string; received: number; delivered: number }[];
}

/**
 * `since` (default: an hour ago), `until` (default: now), `step` (`minute`, the default, or `hour`), as the schema
 * accepted them: `since` before `until`, and at most MAX_POINTS steps between them, added to `problems`.
 */
export function readTimeline(
  query: QueryOf<typeof operations.getLeadTimeline>,
  problems: FieldError[],
  now = new Date(),
): TimelineQuery {
  const since = instantOf(query.since, problems, 'since') ?? new Date(now.getTime() - 3600_000);
  const until = instantOf(query.until, problems, 'until') ?? now;
  const step = query.step ?? 'minute';
  if (since >= until) problems.push({ field: 'until', message: 'must be later than since' });
  else if ((until.getTime() - since.getTime()) / TIMELINE_STEPS[step] > MAX_POINTS) {
    problems.push({
      field: 'since',
      message: `the window is more than ${MAX_POINTS} ${step}s; shorten it or use a longer step`,
    });
  }
  return { since, until, step };
}

/**
 * Leads received per minute (or hour) in a window, and how many of those are
 * delivered by now: one aggregate over leads(created_at). Steps are whole
 * minutes or hours of UTC, filled with zeros where nothing arrived.
 */
export async function leadTimeline(db: Db, q: TimelineQuery): Promise<Timeline> {
  const ms = TIMELINE_STEPS[q.step];
  const rows = await runStatement(sqlPool(db), LEAD_TIMELINE, { since: q.since, until: q.until, stepMs: String(ms) });
  const byBucket = new Map(rows.map((r) => [Number(r.bucket), r]));
  const points: Timeline['points'] = [];
  for (let b = Math.floor(q.since.getTime() / ms); b * ms < q.until.getTime(); b++) {
    const row = byBucket.get(b);
    points.push({ at: new Date(b * ms).toISOString(), received: row?.received ?? 0, delivered: row?.delivered ?? 0 });
  }
  return { since: q.since.toISOString(), until: q.until.toISOString(), step: q.step, points };
}
