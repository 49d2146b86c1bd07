import { describeLocalTime, isWithinSchedule } from './schedule';

const at = (iso: string) => new Date(iso);

describe('isWithinSchedule', () => {
  const nineToFive = { timezone: 'America/New_York', days: { mon: ['09:00-17:00'], tue: ['09:00-17:00'] } };

  it('is always open without a schedule', () => {
    expect(isWithinSchedule(null, at('2026-01-05T03:00:00Z'))).toBe(true);
  });

  it('reads the window on the partner’s wall clock', () => {
    // Monday 2026-01-05, New York is UTC-5.
    expect(isWithinSchedule(nineToFive, at('2026-01-05T13:59:59Z'))).toBe(false); // 08:59:59
    expect(isWithinSchedule(nineToFive, at('2026-01-05T14:00:00Z'))).toBe(true); // 09:00
    expect(isWithinSchedule(nineToFive, at('2026-01-05T21:59:00Z'))).toBe(true); // 16:59
    expect(isWithinSchedule(nineToFive, at('2026-01-05T22:00:00Z'))).toBe(false); // 17:00, end is exclusive
  });

  it('uses the local weekday, not the UTC one', () => {
    // Tuesday 01:00 UTC is still Monday 20:00 in New York: closed (after 17:00), not Tuesday.
    expect(isWithinSchedule(nineToFive, at('2026-01-06T01:00:00Z'))).toBe(false);
    // Monday 23:30 UTC is Tuesday 08:30 in Tokyo.
    const tokyo = { timezone: 'Asia/Tokyo', days: { tue: ['08:00-09:00'] } };
    expect(isWithinSchedule(tokyo, at('2026-01-05T23:30:00Z'))).toBe(true);
    expect(isWithinSchedule(tokyo, at('2026-01-06T23:30:00Z'))).toBe(false); // Wednesday there
  });

  it('is closed on days without windows', () => {
    expect(isWithinSchedule(nineToFive, at('2026-01-07T15:00:00Z'))).toBe(false); // Wednesday
  });

  it('keeps wall-clock hours across a DST change', () => {
    // US DST starts Sunday 2026-03-08; Monday 2026-03-09 New York is UTC-4.
    expect(isWithinSchedule(nineToFive, at('2026-03-09T13:00:00Z'))).toBe(true); // 09:00 EDT
    expect(isWithinSchedule(nineToFive, at('2026-03-09T12:59:00Z'))).toBe(false); // 08:59 EDT
    // The previous Monday (EST) 13:00Z was 08:00: closed.
    expect(isWithinSchedule(nineToFive, at('2026-03-02T13:00:00Z'))).toBe(false);
  });

  it('runs a window past midnight into the next day', () => {
    const night = { timezone: 'UTC', days: { mon: ['22:00-02:00'] } };
    expect(isWithinSchedule(night, at('2026-01-05T21:59:00Z'))).toBe(false);
    expect(isWithinSchedule(night, at('2026-01-05T23:00:00Z'))).toBe(true);
    expect(isWithinSchedule(night, at('2026-01-06T01:59:00Z'))).toBe(true); // Tuesday, from Monday's window
    expect(isWithinSchedule(night, at('2026-01-06T02:00:00Z'))).toBe(false);
    expect(isWithinSchedule(night, at('2026-01-06T23:00:00Z'))).toBe(false); // Tuesday has no window
  });

  it('takes 00:00-24:00 as the whole day and several windows a day', () => {
    const s = { timezone: 'Europe/Paris', days: { sat: ['00:00-24:00'], sun: ['08:00-12:00', '14:00-18:00'] } };
    expect(isWithinSchedule(s, at('2026-01-10T23:30:00Z'))).toBe(false); // Sunday 00:30 Paris
    expect(isWithinSchedule(s, at('2026-01-10T22:59:00Z'))).toBe(true); // Saturday 23:59 Paris
    expect(isWithinSchedule(s, at('2026-01-11T12:00:00Z'))).toBe(false); // Sunday 13:00 Paris
    expect(isWithinSchedule(s, at('2026-01-11T13:00:00Z'))).toBe(true); // Sunday 14:00 Paris
  });

  it('says when, on the partner’s clock', () => {
    expect(describeLocalTime(at('2026-01-05T23:05:00Z'), 'America/New_York')).toBe('Mon 18:05 America/New_York');
    expect(describeLocalTime(at('2026-01-05T23:05:00Z'), undefined)).toBe('Mon 23:05 UTC');
  });
});
