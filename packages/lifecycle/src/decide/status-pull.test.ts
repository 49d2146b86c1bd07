import { decidePageStep, emptyTally, pullOutcome, sameStatus } from './status-pull';

describe('decidePageStep', () => {
  const step = (page: number | null, count: number, sameAsPrevious = false, maxPages?: number) =>
    decidePageStep({ page, size: page === null ? null : 50, count, sameAsPrevious, ...(maxPages ? { maxPages } : {}) });

  it('asks for the next page after a full one, and stops at a short or empty one', () => {
    expect(step(1, 50)).toEqual({ next: 'page' });
    expect(step(2, 49)).toEqual({ next: 'done' });
    expect(step(3, 0)).toEqual({ next: 'done' });
    // Not paged: one answer is the whole window.
    expect(step(null, 5000)).toEqual({ next: 'done' });
  });

  it('fails a pull whose pages repeat (the API ignores the page) or never end, rather than loop', () => {
    expect(step(2, 50, true)).toEqual({
      next: 'fail',
      error: 'page 2 is the same as page 1: the API seems to ignore the page parameter',
    });
    // Two empty pages alike are simply the end.
    expect(step(2, 0, true)).toEqual({ next: 'done' });
    expect(step(10, 50, false, 10)).toEqual({ next: 'fail', error: 'more than 10 full pages: stopped' });
    expect(step(9, 50, false, 10)).toEqual({ next: 'page' });
  });
});

describe('pullOutcome', () => {
  it('fails with what stopped the pull, or when no item it read could be read', () => {
    expect(pullOutcome('page 2: the answer was HTTP 500', emptyTally())).toEqual({
      ok: false,
      error: 'page 2: the answer was HTTP 500',
    });
    const none = {
      ...emptyTally(),
      items: 3,
      unreadable: 3,
      firstUnreadable: 'status: no status of 1 to 200 characters',
    };
    expect(pullOutcome(null, none)).toEqual({
      ok: false,
      error: 'no item could be read (3 in the answers; the first: status: no status of 1 to 200 characters)',
    });
  });

  it('is ok with no items, or with some that name nothing of ours or cannot be read', () => {
    expect(pullOutcome(null, emptyTally())).toEqual({ ok: true, error: null });
    expect(pullOutcome(null, { ...emptyTally(), items: 3, unreadable: 1, unmatched: 1, updated: 1 })).toEqual({
      ok: true,
      error: null,
    });
  });
});

it('sameStatus compares statuses as the statusMap does (case and surrounding spaces ignored)', () => {
  expect(sameStatus('Deposit', ' deposit ')).toBe(true);
  expect(sameStatus('Deposit', 'Deposited')).toBe(false);
  expect(sameStatus(null, 'New')).toBe(false);
});
