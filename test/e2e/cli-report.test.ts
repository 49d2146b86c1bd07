import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { run as leadrouter } from '@leadrouter/cli';
import { createDb, type Db } from '@leadrouter/db';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { Fixtures } from '../support/fixtures';

/** Collects what a command writes. */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/**
 * `npx leadrouter report` (ADR 0028) against this file's database, run in this process through the CLI's
 * own `run`: the same report as GET /v1/admin/reports, as a table, as JSON, or as a CSV file.
 */
describe('leadrouter report', () => {
  let database: TestDatabase;
  let db: Db;
  let dir: string;
  let acme: { id: string; name: string };
  let source: { id: string; name: string };

  const cli = async (args: string[]) => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await leadrouter(['node', 'leadrouter', ...args], {
      stdout,
      stderr,
      env: { ...process.env, DATABASE_URL: database.url, CURRENCY: 'EUR' },
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb({ databaseUrl: database.url });
    dir = await mkdtemp(path.join(os.tmpdir(), 'leadrouter-report-'));
    const fx = new Fixtures(db);
    source = await fx.source('Leads, Inc.');
    acme = await fx.partner({ name: 'acme' });
    // Three leads on 2026-11-02: two sold to acme (one converted), one unsold; a lead the next day, unmatched.
    const at = new Date('2026-11-02T10:00:00Z');
    const sold = [
      await fx.lead({ sourceId: source.id, status: 'delivered', createdAt: at }),
      await fx.lead({ sourceId: source.id, status: 'delivered', createdAt: at }),
    ];
    await fx.lead({ sourceId: source.id, status: 'unsold', createdAt: at });
    await fx.lead({ sourceId: source.id, status: 'unmatched', createdAt: new Date('2026-11-03T08:00:00Z') });
    for (const [i, lead] of sold.entries()) {
      const delivery = await fx.delivery({ leadId: lead.id, partnerId: acme.id, status: 'accepted' });
      await db.$executeRaw`INSERT INTO ledger_entries (lead_id, party, party_id, kind, amount, delivery_id, event_id, at)
        VALUES (${lead.id}::uuid, 'partner', ${acme.id}::uuid, 'sale', 12.5, ${delivery.id}::uuid, ${delivery.id}::uuid, ${at}),
               (${lead.id}::uuid, 'source', ${source.id}::uuid, 'sale', 4, ${delivery.id}::uuid, ${lead.id}::uuid, ${at})`;
      if (i === 0)
        await db.$executeRaw`INSERT INTO ledger_entries (lead_id, party, party_id, kind, amount, delivery_id, event_id, at)
          VALUES (${lead.id}::uuid, 'partner', ${acme.id}::uuid, 'conversion', 40, ${delivery.id}::uuid, ${delivery.id}::uuid, ${at})`;
    }
  });
  afterAll(async () => {
    await db.$disconnect();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a table grouped as asked', async () => {
    const run = await cli(['report', '--group-by', 'day,partner', '--since', '2026-11-01', '--until', '2026-11-05']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]!.split(/\s{2,}/)).toEqual([
      'DAY',
      'PARTNER',
      'LEADS',
      'ACCEPTED',
      'DUPS',
      'SOLD',
      'UNSOLD',
      'UNMATCHED',
      'DEAD',
      'CONV',
      'RETURNED',
      'REVERSED',
      'REVENUE',
      'COST',
      'MARGIN',
      'CONV%',
      'RET%',
      'PINGS',
      'BIDS',
      'WIN%',
      'AVG BID',
    ]);
    // The currency of every amount (CURRENCY) under the table.
    expect(lines.at(-1)).toBe('amounts in EUR');
    expect(lines.slice(1, -1).map((l) => l.split(/\s{2,}/))).toEqual([
      [
        '2026-11-02',
        '(no partner)',
        '3',
        '3',
        '0',
        '2',
        '1',
        '0',
        '0',
        '0',
        '0',
        '0',
        '0.0000',
        '0.0000',
        '0.0000',
        '0.0%',
        '0.0%',
        '0',
        '0',
        '-',
        '-',
      ],
      [
        '2026-11-02',
        'acme',
        '0',
        '0',
        '0',
        '2',
        '0',
        '0',
        '0',
        '1',
        '0',
        '0',
        '65.0000',
        '8.0000',
        '57.0000',
        '50.0%',
        '0.0%',
        '0',
        '0',
        '-',
        '-',
      ],
      [
        '2026-11-03',
        '(no partner)',
        '1',
        '1',
        '0',
        '0',
        '0',
        '1',
        '0',
        '0',
        '0',
        '0',
        '0.0000',
        '0.0000',
        '0.0000',
        '-',
        '-',
        '0',
        '0',
        '-',
        '-',
      ],
    ]);
  });

  it('prints JSON as the API answers, and writes CSV to a file or to standard output', async () => {
    const asJson = await cli([
      'report',
      '--group-by',
      'source',
      '--since',
      '2026-11-01',
      '--until',
      '2026-11-05',
      '--json',
    ]);
    expect(JSON.parse(asJson.stdout)).toMatchObject({
      since: '2026-11-01T00:00:00.000Z',
      until: '2026-11-05T00:00:00.000Z',
      groupBy: ['source'],
      items: [{ source: { id: source.id, name: 'Leads, Inc.' }, leads: 4, sold: 2, converted: 1, revenue: '65.0000' }],
    });
    // In Honolulu (-10 h) the lead of 2026-11-03T08:00Z arrived on November 2, with the three others.
    const honolulu = await cli([
      'report',
      '--since',
      '2026-11-01',
      '--until',
      '2026-11-05',
      '--tz',
      'Pacific/Honolulu',
      '--json',
    ]);
    expect(JSON.parse(honolulu.stdout)).toMatchObject({
      since: '2026-11-01T10:00:00.000Z',
      tz: 'Pacific/Honolulu',
      currency: 'EUR',
      items: [{ day: '2026-11-02', leads: 4 }],
    });
    const utc = await cli(['report', '--since', '2026-11-01', '--until', '2026-11-05', '--json']);
    expect(
      (JSON.parse(utc.stdout) as { items: { day: string; leads: number }[] }).items.map((i) => [i.day, i.leads]),
    ).toEqual([
      ['2026-11-02', 3],
      ['2026-11-03', 1],
    ]);
    const file = path.join(dir, 'report.csv');
    const toFile = await cli([
      'report',
      '--group-by',
      'source',
      '--since',
      '2026-11-01',
      '--until',
      '2026-11-05',
      '--csv',
      file,
    ]);
    expect(toFile).toEqual({ code: 0, stdout: `wrote 1 row and a header to ${file}\n`, stderr: '' });
    const csv = await readFile(file, 'utf8');
    expect(csv).toBe(
      'source.id,source.name,leads,accepted,duplicates,sold,unsold,unmatched,deadLettered,converted,returned,reversed,revenue,cost,margin,conversionRate,returnRate,pings,bids,wins,winRate,averageBid,currency\r\n' +
        `${source.id},"Leads, Inc.",4,4,0,2,1,1,0,1,0,0,65.0000,8.0000,57.0000,0.5,0,0,0,0,,,EUR\r\n`,
    );
    const toStdout = await cli([
      'report',
      '--group-by',
      'source',
      '--since',
      '2026-11-01',
      '--until',
      '2026-11-05',
      '--csv',
      '-',
    ]);
    expect(toStdout.stdout).toBe(csv);
  });

  it('says what is wrong in one line: every problem of the options, exit code 1; a bad command line, 2', async () => {
    const bad = await cli(['report', '--group-by', 'week,day,hour', '--since', '2020-01-01']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'leadrouter: --group-by: "week" is not a grouping (use day, hour, source, partner, geo, channel); ' +
        '--group-by: takes at most 2 keys, e.g. day,partner; --group-by: takes day or hour, not both (an hour names its day); ' +
        `--since: a report covers at most 400 days; since to until is ${Math.ceil((Date.parse(new Date().toISOString().slice(0, 10)) + 86_400_000 - Date.parse('2020-01-01')) / 86_400_000)}\n`,
    );
    const both = await cli(['report', '--csv', '-', '--json']);
    expect({ code: both.code, stderr: both.stderr }).toEqual({
      code: 2,
      stderr: 'leadrouter: give --csv or --json, not both\n',
    });
    const empty = await cli(['report', '--since', '2026-01-01', '--until', '2026-01-02']);
    expect(empty.stdout).toBe('nothing reported 2026-01-01T00:00:00.000Z – 2026-01-02T00:00:00.000Z (UTC)\n');
  });
});
