import { DateTime } from 'luxon';
import type { Schedule } from '@leadrouter/core';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
type Day = (typeof DAYS)[number];

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/**
 * Whether `now` falls in one of the schedule's windows, on the wall clock of
 * its IANA timezone (luxon handles DST: a window is wall-clock time, so
 * "09:00-17:00" is 09:00–17:00 local on both sides of a change). A window
 * whose end is before its start runs past midnight into the next day
 * ("22:00-02:00" on mon covers Mon 22:00 to Tue 02:00). No schedule: always open.
 */
export function isWithinSchedule(schedule: Schedule | null | undefined, now: Date): boolean {
  if (!schedule) return true;
  const local = DateTime.fromJSDate(now, { zone: schedule.timezone });
  if (!local.isValid) return false;
  const day = DAYS[local.weekday - 1]!;
  const yesterday = DAYS[(local.weekday + 5) % 7]!;
  const t = local.hour * 60 + local.minute;
  const open = (d: Day, test: (start: number, end: number) => boolean) =>
    (schedule.days[d] ?? []).some((w) => {
      const [start, end] = w.split('-') as [string, string];
      return test(minutes(start), minutes(end));
    });
  return (
    open(day, (start, end) => (end > start ? t >= start && t < end : t >= start)) ||
    open(yesterday, (start, end) => end < start && t < end)
  );
}

/** "Mon 18:05 America/New_York": the local time a schedule decision was made at, for the lead's history. */
export function describeLocalTime(now: Date, zone: string | undefined): string {
  const local = DateTime.fromJSDate(now, { zone: zone ?? 'UTC' });
  return `${local.toFormat('ccc HH:mm')} ${zone ?? 'UTC'}`;
}
