import type { AppError } from '@leadrouter/core';
import { csvField, parseReport, reportCsv, type ReportQuery } from './reports.js';

describe('csvField (RFC 4180)', () => {
  it('quotes fields with a comma, a quote or a line break, doubling quotes', () => {
    expect(csvField('plain', true)).toBe('plain');
    expect(csvField('a,b', true)).toBe('"a,b"');
    expect(csvField('say "hi"', true)).toBe('"say ""hi"""');
    expect(csvField('two\nlines', true)).toBe('"two\nlines"');
    expect(csvField('cr\rlf', true)).toBe('"cr\rlf"');
    expect(csvField(null, true)).toBe('');
    expect(csvField(undefined, false)).toBe('');
    expect(csvField(0, false)).toBe('0');
  });

  it('writes text a spreadsheet would run as a formula as text, and never touches figures', () => {
    for (const formula of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx']) expect(csvField(formula, true)).toBe(`'${formula}`);
    expect(csvField('=HYPERLINK("x","y")', true)).toBe(`"'=HYPERLINK(""x"",""y"")"`);
    expect(csvField('-2.5000', false)).toBe('-2.5000');
  });
});

describe('parseReport', () => {
  const now = new Date('2026-12-02T10:20:00Z');
  const errors = (raw: Record<string, unknown>, view: 'admin' | 'source' = 'admin') => {
    try {
      parseReport(raw, view, now);
      return [];
    } catch (err) {
      return (err as AppError).details.errors;
    }
  };

  it('defaults to the 30 UTC days up to the end of today, by day, as JSON', () => {
    expect(parseReport({}, 'admin', now)).toEqual({
      view: 'admin',
      keys: ['day'],
      table: 'daily',
      since: new Date('2026-11-03T00:00:00Z'),
      until: new Date('2026-12-03T00:00:00Z'),
      format: 'json',
      tz: 'UTC',
      dayZone: 'UTC',
    });
  });

  it('reads whole hours from the hourly rollup unless grouped by day, geo or channel', () => {
    const q = parseReport(
      { groupBy: 'partner', since: '2026-12-01T06:00:00+02:00', until: '2026-12-02' },
      'admin',
      now,
    );
    expect(q).toMatchObject({ table: 'hourly', since: new Date('2026-12-01T04:00:00Z') });
    expect(
      parseReport({ groupBy: 'source,partner', since: '2026-12-01', until: '2026-12-02' }, 'admin', now).table,
    ).toBe('daily');
    expect(parseReport({ groupBy: 'hour,source' }, 'admin', now).table).toBe('hourly');
  });

  it('takes the days of a time zone (tz): dates are its midnights, its days made of UTC hours when it is off UTC', () => {
    expect(
      parseReport(
        { groupBy: 'day,partner', since: '2026-03-07', until: '2026-03-09', tz: 'America/New_York' },
        'admin',
        now,
      ),
    ).toMatchObject({
      table: 'hourly',
      // EST, then EDT from March 8 (a day of 23 hours).
      since: new Date('2026-03-07T05:00:00Z'),
      until: new Date('2026-03-09T04:00:00Z'),
      tz: 'America/New_York',
      dayZone: 'America/New_York',
    });
    // By default the 30 days of the zone up to the end of its today (10:20 UTC is 19:20 in Tokyo).
    expect(parseReport({ tz: 'Asia/Tokyo' }, 'admin', now)).toMatchObject({
      since: new Date('2026-11-02T15:00:00Z'),
      until: new Date('2026-12-02T15:00:00Z'),
    });
    // A zone at UTC all the range long is UTC: its days are the daily rollup's, with geo and channel.
    expect(
      parseReport({ groupBy: 'geo', since: '2026-01-05', until: '2026-01-12', tz: 'Europe/London' }, 'admin', now),
    ).toMatchObject({
      table: 'daily',
      since: new Date('2026-01-05T00:00:00Z'),
      tz: 'Europe/London',
      dayZone: 'UTC',
    });
  });

  it('refuses a zone that is not one, a zone off UTC by part of an hour, and a part of its day', () => {
    expect(errors({ tz: 'Europe/Nowhere' })).toEqual([
      { field: 'tz', message: 'must be an IANA time zone name, e.g. America/New_York or Europe/Paris' },
    ]);
    expect(errors({ tz: 'Australia/Adelaide', since: '2026-03-01', until: '2026-03-08' })).toEqual([
      {
        field: 'tz',
        message:
          'is +10:30 off UTC on 2026-03-01, not whole hours: reports are kept per UTC hour, so its days cannot be made of them (leave tz out for UTC days)',
      },
    ]);
    expect(errors({ since: '2026-03-01T00:00:00Z', until: '2026-03-08', tz: 'America/New_York' })).toEqual([
      {
        field: 'since',
        message:
          'must be a whole day in America/New_York (2026-01-31) when grouping by day, geo or channel (kept per day in America/New_York)',
      },
    ]);
  });

  it('says what is wrong with groupBy without more about the range', () => {
    expect(errors({ groupBy: 'day,day', since: '2026-12-01T10:00:00Z' })).toEqual([
      { field: 'groupBy', message: 'names a key twice' },
    ]);
    expect(errors({ groupBy: 'geo', since: '2026-12-01T10:30:00Z' })).toEqual([
      {
        field: 'since',
        message: 'must be a whole UTC hour (the reports are kept per hour), e.g. 2026-01-31T10:00:00Z',
      },
    ]);
    expect(errors({ groupBy: 'source', until: '2026-12-01' }, 'source')).toEqual([
      { field: 'groupBy', message: 'a source’s report holds its own figures only: no source or partner' },
    ]);
    expect(errors({ since: '2026-12-05', until: '2026-12-01' })).toEqual([
      { field: 'until', message: 'must be later than since' },
    ]);
  });
});

describe('reportCsv', () => {
  it('has one header row and a CRLF-ended line per item, a party as its id and name', () => {
    const q: ReportQuery = {
      view: 'source',
      keys: ['geo'],
      table: 'daily',
      since: new Date('2026-12-01T00:00:00Z'),
      until: new Date('2026-12-02T00:00:00Z'),
      format: 'csv',
      tz: 'UTC',
      dayZone: 'UTC',
    };
    const item = {
      geo: null,
      leads: 1,
      accepted: 1,
      duplicates: 0,
      sold: 0,
      unsold: 1,
      unmatched: 0,
      deadLettered: 0,
      converted: 0,
      returned: 0,
      reversed: 0,
      payout: '0.0000',
      conversionRate: null,
      returnRate: null,
      pings: 3,
      bids: 2,
      posted: 1,
      winRate: 0.5,
      averageBid: '4.2500',
    };
    expect(reportCsv(q, [item], 'EUR')).toBe(
      'geo,leads,accepted,duplicates,sold,unsold,unmatched,deadLettered,converted,returned,reversed,payout,conversionRate,returnRate,pings,bids,posted,winRate,averageBid,currency\r\n' +
        ',1,1,0,0,1,0,0,0,0,0,0.0000,,,3,2,1,0.5,4.2500,EUR\r\n',
    );
  });
});
