import { BUSY_DELAY_MAX_MS, BUSY_DELAY_MS, busyDelayMs } from '@leadrouter/lifecycle';

describe('the wait of a delivery whose partner has no free slot', () => {
  const none = () => 0;
  const most = () => 0.999;

  it('is half a second at first, and a quarter of the time waited so far after that', () => {
    expect(busyDelayMs(none)).toBe(BUSY_DELAY_MS);
    expect(busyDelayMs(none, 1_000)).toBe(BUSY_DELAY_MS);
    expect(busyDelayMs(none, 8_000)).toBe(2_000);
    expect(busyDelayMs(none, 40_000)).toBe(10_000);
  });

  it('never exceeds 15 s, however long the backlog', () => {
    expect(busyDelayMs(none, 60_000)).toBe(BUSY_DELAY_MAX_MS);
    expect(busyDelayMs(none, 10 * 3600_000)).toBe(BUSY_DELAY_MAX_MS);
    expect(busyDelayMs(most, 10 * 3600_000)).toBeLessThan(2 * BUSY_DELAY_MAX_MS);
  });

  it('adds up to as much again at random, so waiting deliveries do not all ask at once', () => {
    expect(busyDelayMs(most, 8_000)).toBe(3_998);
    expect(new Set(Array.from({ length: 20 }, () => busyDelayMs(Math.random, 8_000))).size).toBeGreaterThan(1);
  });
});
