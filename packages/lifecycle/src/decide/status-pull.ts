import { normaliseStatus } from '@leadrouter/money';

/** The most pages one pull asks for: an API that always answers a full page cannot hold a worker for ever. */
export const STATUS_PULL_MAX_PAGES = 1000;

/** What a pull does after reading a page. */
export type PageStep = { next: 'page' } | { next: 'done' } | { next: 'fail'; error: string };

/**
 * After page `page` (null: the API is not paged) with `count` items: a pull without paging, a short page (fewer
 * than `size` items) or an empty one is the end; a page that holds the same bytes as the one before means the
 * API ignores the page parameter (it would answer it for ever), and more than STATUS_PULL_MAX_PAGES pages is
 * too many — both fail the pull rather than loop.
 */
export function decidePageStep(input: {
  page: number | null;
  size: number | null;
  count: number;
  sameAsPrevious: boolean;
  maxPages?: number;
}): PageStep {
  const { page, size, count } = input;
  if (page === null || size === null) return { next: 'done' };
  if (input.sameAsPrevious && count > 0)
    return {
      next: 'fail',
      error: `page ${page} is the same as page ${page - 1}: the API seems to ignore the page parameter`,
    };
  if (count < size) return { next: 'done' };
  const max = input.maxPages ?? STATUS_PULL_MAX_PAGES;
  if (page >= max) return { next: 'fail', error: `more than ${max} full pages: stopped` };
  return { next: 'page' };
}

/** What a pull found among the items it read. */
export interface PullTally {
  /** Items in the answers. */
  items: number;
  /** Items whose status changed a sale (recorded as a `status` event). */
  updated: number;
  /** Items whose sale has this status already, or a newer one. */
  unchanged: number;
  /** Items naming no lead this partner bought. */
  unmatched: number;
  /** Items whose reference names more than one of the partner's sales. */
  ambiguous: number;
  /** Items that could not be read (no reference or status, an amount or time that is not one). */
  unreadable: number;
  /** Items whose event was refused (a return outside the window, say): asked again on the next pull. */
  refused: number;
  /** The first reason an item could not be read. */
  firstUnreadable: string | null;
}

export const emptyTally = (): PullTally => ({
  items: 0,
  updated: 0,
  unchanged: 0,
  unmatched: 0,
  ambiguous: 0,
  unreadable: 0,
  refused: 0,
  firstUnreadable: null,
});

/**
 * How a pull went: failed with the error that stopped it, or when it read items and could read none of them
 * (its paths do not fit the answers); otherwise ok — items that name no lead of the partner's, or that a
 * single one could not be read, do not fail it.
 */
export function pullOutcome(stopped: string | null, tally: PullTally): { ok: boolean; error: string | null } {
  if (stopped !== null) return { ok: false, error: stopped };
  if (tally.items > 0 && tally.unreadable === tally.items)
    return {
      ok: false,
      error: `no item could be read (${tally.items} in the answers; the first: ${tally.firstUnreadable ?? 'unknown'})`,
    };
  return { ok: true, error: null };
}

/** Whether a pulled status is the one the sale has already (compared as statusMap keys are: case, spaces). */
export function sameStatus(stored: string | null, pulled: string): boolean {
  return stored !== null && normaliseStatus(stored) === normaliseStatus(pulled);
}
