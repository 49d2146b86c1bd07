import { writeFile } from 'node:fs/promises';
import { Command, CommanderError } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { ConfigError } from '@leadrouter/config';
import { AppError, notFound, readRoutingRecord, type ReportKey } from '@leadrouter/core';
import { isDatabaseUnavailable } from '@leadrouter/db';
import {
  discardDeadLetter,
  discardDeadLetters,
  erasePersonalData,
  ERASURE_REASON_MAX,
  findPartner,
  findSource,
  leadDetail,
  listDeadLetters,
  listPartners,
  pausePartner,
  resumePartner,
  rotateSourceKey,
  parseDeadLetterQuery,
  parseDiscardSelection,
  parseLeadSearch,
  parseRetrySelection,
  retryDeadLetter,
  retryDeadLetters,
  searchLeads,
  SKIP_REASONS,
  type BulkDiscardResult,
  type BulkProgress,
  type BulkRetryResult,
  type LeadDetail,
  type RequeueSkipReason,
  adminReport,
  parseReport,
  reportCsv,
  type AdminReportItem,
} from '@leadrouter/lifecycle';
import { CliContext } from './context.js';
import { fields, json, plural, table, truncate } from './output.js';

/** A terminal's side of a stream, when it is one (process.stdout and process.stderr have these). */
interface Terminal {
  isTTY?: boolean;
  columns?: number;
}

/** Where a command writes and what it reads its configuration from: the process's own, or a caller's. */
export interface Io {
  stdout: NodeJS.WritableStream & Terminal;
  stderr: NodeJS.WritableStream & Terminal;
  env: NodeJS.ProcessEnv;
}

/** Exit codes: 0 done; 1 the operation failed or was refused; 2 the command line is wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A command line that cannot mean anything (as opposed to a request the operations refuse). */
class UsageError extends Error {}

const ENVIRONMENT_HELP = `
Environment (read as the services read it):
  DATABASE_URL         PostgreSQL (default postgresql://postgres@127.0.0.1:5432/leadrouter)
  REDIS_URL            Redis, for requeueing (default redis://127.0.0.1:6379)
  REDIS_CLUSTER_NODES  host:port,… of a Redis Cluster, instead of REDIS_URL
  QUEUE_PREFIX         the start of every Redis key (default leadrouter)
  QUEUE_PARTITIONS     sub-queues of each queue, as the services have them (default 1)
  CURRENCY             ISO 4217 code of every amount, as the ingest names it (default USD)

Exit codes: 0 done, 1 failed or refused (one line on stderr says why), 2 bad command line.
`;

/** Runs one command line; resolves with the exit code once every connection is closed. */
export async function run(argv: string[], io: Io): Promise<number> {
  const ctx = new CliContext(io.env);
  const program = buildProgram(ctx, io);
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    return report(err, ctx, io);
  } finally {
    await ctx.close();
  }
}

function buildProgram(ctx: CliContext, io: Io): Command {
  const program = new Command('leadrouter')
    .description(
      'leadrouter operations: dead letters, leads, partners, sources and reports, straight from PostgreSQL and Redis',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Help wrapped to the width of the terminal `io` writes to, if any (commander would ask the process's).
      getOutHelpWidth: () => (io.stdout.isTTY && io.stdout.columns) || 80,
      getErrHelpWidth: () => (io.stderr.isTTY && io.stderr.columns) || 80,
      // Commander's own errors (unknown command or option, missing argument), as one line.
      outputError: (s, write) =>
        write(
          `leadrouter: ${s
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ')} (see --help)\n`,
        ),
    })
    .addHelpText('after', ENVIRONMENT_HELP);

  const dlq = program
    .command('dlq')
    .description('dead-lettered deliveries: list, retry, discard')
    .addHelpText('after', ENVIRONMENT_HELP);

  dlq
    .command('list')
    .description('list dead letters, oldest first')
    .option('--partner <partner>', 'only this partner’s (id or name)')
    .option(
      '--status <statuses>',
      'dead_lettered (default), superseded (their lead was sold through other partners since), or both, comma-separated',
    )
    .option('--limit <n>', 'at most this many (1–500)', '50')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print {items, nextCursor} as JSON')
    .action(async (opts: { partner?: string; status?: string; limit: string; cursor?: string; json?: boolean }) => {
      const db = ctx.db();
      const query = await parseDeadLetterQuery(
        db,
        defined({ partner: opts.partner, status: opts.status, limit: opts.limit, cursor: opts.cursor }),
      );
      const page = await listDeadLetters(db, query);
      if (opts.json) return void io.stdout.write(json(page));
      if (page.items.length === 0)
        return void io.stdout.write(query.statuses.includes('dead_lettered') ? 'no dead letters\n' : 'none\n');
      const withStatus = query.statuses.length > 1;
      io.stdout.write(
        table(
          [
            'ID',
            'LEAD',
            'PARTNER',
            ...(withStatus ? ['STATUS'] : []),
            'ATTEMPTS',
            'RETRIES',
            'DEAD-LETTERED AT',
            'LAST ERROR',
          ],
          page.items.map((d) => [
            d.id,
            d.leadId,
            d.partner,
            ...(withStatus ? [d.status] : []),
            d.attempts,
            d.retries,
            d.at,
            truncate(d.lastError, 60),
          ]),
        ),
      );
      if (page.nextCursor) io.stdout.write(`\nmore: leadrouter dlq list --cursor ${page.nextCursor}\n`);
    });

  dlq
    .command('retry')
    .description('requeue one dead letter, a partner’s, or all of them, with fresh attempts')
    .argument('[id]', 'the dead letter (delivery) id')
    .option('--partner <partner>', 'every dead letter of this partner (id or name)')
    .option('--all', 'every dead letter')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
A retried delivery gets a fresh round of the partner's maxAttempts. A dead letter
is refused (skipped in bulk) when its lead has since been sold to maxDeliveries
partners (a superseded one always is), is being delivered elsewhere right now,
or its partner is paused or inactive. Bulk retries work in batches of 500; after
an interruption, run the same command again to retry what is left.
`,
    )
    .action(async (id: string | undefined, opts: { partner?: string; all?: boolean; json?: boolean }) => {
      const given = [id !== undefined, opts.partner !== undefined, opts.all === true].filter(Boolean).length;
      if (given !== 1) throw new UsageError('give one dead letter id, or --partner <id|name>, or --all');
      const ops = await ctx.operations();
      if (id !== undefined) {
        const result = await retryDeadLetter(ops, id);
        if (opts.json) return void io.stdout.write(json(result));
        io.stdout.write(`requeued dead letter ${id}\n`);
        return deferredNote(result.deferred ?? 0, io);
      }
      const selection = await parseRetrySelection(ops.db, opts.all ? { all: true } : { partner: opts.partner });
      const progress = progressReporter(io, !opts.json, 'retrying', 'requeued');
      let result: BulkRetryResult;
      try {
        result = await retryDeadLetters(ops, selection, {
          onProgress: (p) => progress.update({ ...p, changed: p.requeued }),
        });
      } finally {
        progress.stop();
      }
      if (opts.json) return void io.stdout.write(json(result));
      const looked = result.requeued + Object.values(result.skipped).reduce((a, b) => a + b, 0);
      io.stdout.write(`requeued ${result.requeued} of ${plural(looked, 'dead letter')}\n`);
      for (const [reason, n] of Object.entries(result.skipped) as [RequeueSkipReason, number][]) {
        if (n > 0) io.stdout.write(`skipped ${n} (${reason}): ${SKIP_REASONS[reason]}\n`);
      }
      deferredNote(result.deferred ?? 0, io);
    });

  dlq
    .command('discard')
    .description(
      'give up on one dead letter, a partner’s, or all of them: each stays in its lead’s history as rejected ("discarded by operator")',
    )
    .argument('[id]', 'the dead letter (delivery) id')
    .option('--partner <partner>', 'every dead letter of this partner (id or name)')
    .option('--all', 'every dead letter')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
A lead left with no dead letter is settled again by the worker (unsold, with its
postback). Bulk discards work in batches of 500; after an interruption, run the
same command again to discard what is left.
`,
    )
    .action(async (id: string | undefined, opts: { partner?: string; all?: boolean; json?: boolean }) => {
      const given = [id !== undefined, opts.partner !== undefined, opts.all === true].filter(Boolean).length;
      if (given !== 1) throw new UsageError('give one dead letter id, or --partner <id|name>, or --all');
      const ops = await ctx.operations();
      if (id !== undefined) {
        const result = await discardDeadLetter(ops, id);
        if (opts.json) return void io.stdout.write(json({ discarded: 1, ...result }));
        return void io.stdout.write(
          result.leadStatus === 'routing'
            ? `discarded dead letter ${id}; lead ${result.leadId} is being settled again by the worker\n`
            : `discarded dead letter ${id}; lead ${result.leadId} stays ${result.leadStatus}\n`,
        );
      }
      const selection = await parseDiscardSelection(ops.db, opts.all ? { all: true } : { partner: opts.partner });
      const progress = progressReporter(io, !opts.json, 'discarding', 'discarded');
      let result: BulkDiscardResult;
      try {
        result = await discardDeadLetters(ops, selection, {
          onProgress: (p) => progress.update({ ...p, changed: p.discarded }),
        });
      } finally {
        progress.stop();
      }
      if (opts.json) return void io.stdout.write(json(result));
      const looked = result.discarded + result.skipped.not_dead_lettered;
      io.stdout.write(`discarded ${result.discarded} of ${plural(looked, 'dead letter')}\n`);
      if (result.skipped.not_dead_lettered > 0)
        io.stdout.write(
          `skipped ${result.skipped.not_dead_lettered} (not_dead_lettered): ${SKIP_REASONS.not_dead_lettered}\n`,
        );
      if (result.settling > 0)
        io.stdout.write(
          `${plural(result.settling, 'lead')} left without a dead letter: the worker settles them again\n`,
        );
    });

  const leads = program
    .command('leads')
    .description('leads: show one, search, erase one’s personal data')
    .addHelpText('after', ENVIRONMENT_HELP);

  leads
    .command('show')
    .description('a lead with its personal data, routing, events and every delivery attempt')
    .argument('<id>', 'the lead id')
    .option('--json', 'print the lead as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const lead = await leadDetail(ctx.db(), id, ctx.config().CURRENCY);
      io.stdout.write(opts.json ? json(lead) : showLead(lead));
    });

  leads
    .command('erase')
    .description(
      'erase a lead’s personal data now (right to erasure): name, phone, email, fields, consent, and what partners echoed of them; its money, statuses and history stay',
    )
    .argument('<id>', 'the lead id')
    .option('--reason <text>', 'why (1–500 characters), kept on the lead’s timeline: never the personal data itself')
    .option('--json', 'print {id, personalDataErasedAt, alreadyErased} as JSON')
    .action(async (id: string, opts: { reason?: string; json?: boolean }) => {
      if (opts.reason !== undefined && (opts.reason.trim() === '' || opts.reason.length > ERASURE_REASON_MAX))
        throw new UsageError(`--reason must be 1 to ${ERASURE_REASON_MAX} characters`);
      const erased = await erasePersonalData({ db: ctx.db() }, id, {
        via: 'cli',
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
      if (opts.json) return void io.stdout.write(json(erased));
      io.stdout.write(
        erased.alreadyErased
          ? `lead ${erased.id}: personal data already erased at ${erased.personalDataErasedAt}; nothing changed\n`
          : `lead ${erased.id}: personal data erased at ${erased.personalDataErasedAt}\n`,
      );
    });

  leads
    .command('search')
    .description('leads, newest first (no personal data; use `leads show` for one)')
    .option('--status <statuses>', 'one or more statuses, comma-separated')
    .option('--source <source>', 'posted by this source (id or name)')
    .option('--partner <partner>', 'offered to this partner (id or name)')
    .option('--since <time>', 'created at or after (ISO 8601, e.g. 2026-01-31T00:00:00Z)')
    .option('--until <time>', 'created before (ISO 8601)')
    .option('--limit <n>', 'at most this many (1–500)', '50')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print {items, nextCursor} as JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const db = ctx.db();
      const { json: asJson, ...filters } = opts;
      const page = await searchLeads(db, await parseLeadSearch(db, defined(filters)));
      if (asJson) return void io.stdout.write(json(page));
      if (page.items.length === 0) return void io.stdout.write('no leads\n');
      io.stdout.write(
        table(
          ['ID', 'STATUS', 'SOURCE', 'GEO', 'CREATED AT'],
          page.items.map((l) => [l.id, l.status, l.sourceName ?? l.sourceId, l.geo, l.createdAt]),
        ),
      );
      if (page.nextCursor) io.stdout.write(`\nmore: add --cursor ${page.nextCursor}\n`);
    });

  const partners = program
    .command('partners')
    .description('partners: list, pause, resume')
    .addHelpText('after', ENVIRONMENT_HELP);

  partners
    .command('list')
    .description('every partner with its status (active, paused or inactive), by name')
    .option('--json', 'print the partners as JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await listPartners(ctx.db());
      if (opts.json) return void io.stdout.write(json(list));
      if (list.length === 0) return void io.stdout.write('no partners\n');
      io.stdout.write(
        table(
          ['ID', 'NAME', 'STATUS', 'PAUSED AT', 'PAUSE REASON'],
          list.map((p) => [p.id, p.name, p.status, p.pausedAt?.toISOString(), truncate(p.pauseReason, 60)]),
        ),
      );
    });

  partners
    .command('pause')
    .description('pause a partner: new leads skip it and its retries wait until it is resumed')
    .argument('<partner>', 'the partner (id or name)')
    .option('--reason <text>', 'why (1–500 characters), shown with the partner', undefined)
    .action(async (ref: string, opts: { reason?: string }) => {
      const { id } = await partnerRef(ctx, ref);
      const partner = await pausePartner({ db: ctx.db(), caches: await ctx.caches() }, id, opts.reason);
      io.stdout.write(`paused partner ${partner.name} (${partner.id}): ${partner.pauseReason}\n`);
      cacheNote(ctx, io);
    });

  partners
    .command('resume')
    .description('resume a paused partner: its failure count starts over and its waiting retries are requeued')
    .argument('<partner>', 'the partner (id or name)')
    .action(async (ref: string) => {
      const { id } = await partnerRef(ctx, ref);
      const ops = await ctx.operations();
      const { partner, requeued } = await resumePartner({ ...ops, caches: await ctx.caches() }, id);
      io.stdout.write(
        `resumed partner ${partner.name} (${partner.id}); requeued ${plural(requeued, 'waiting retry', 'waiting retries')}\n`,
      );
      if (!partner.active)
        io.stdout.write('the partner is inactive: its retries wait until it is reactivated (active: true)\n');
      cacheNote(ctx, io);
    });

  const sources = program
    .command('sources')
    .description('sources: rotate an API key')
    .addHelpText('after', ENVIRONMENT_HELP);

  sources
    .command('rotate-key')
    .description('give a source a new API key; the old one stops working at once')
    .argument('<source>', 'the source (id or name)')
    .option('--json', 'print {id, name, apiKeyPrefix, apiKey} as JSON')
    .addHelpText('after', '\nThe new key is printed once: only its hash is stored. Hand it to the source now.\n')
    .action(async (ref: string, opts: { json?: boolean }) => {
      const found = await findSource(ctx.db(), ref);
      if (!found) throw notFound(`source "${ref}"`);
      const { source, apiKey } = await rotateSourceKey({ db: ctx.db(), caches: await ctx.caches() }, found.id);
      if (opts.json)
        io.stdout.write(json({ id: source.id, name: source.name, apiKeyPrefix: source.apiKeyPrefix, apiKey }));
      else
        io.stdout.write(
          `new API key of source ${source.name} (${source.id}), shown this once; the old key no longer works:\n${apiKey}\n`,
        );
      cacheNote(ctx, io);
    });

  program
    .command('report')
    .description('leads, sales, conversions, returns and money per day, hour, source, partner, geo or channel')
    .option('--group-by <keys>', 'one or two of day, hour, source, partner, geo, channel, comma-separated', 'day')
    .option(
      '--since <time>',
      'from this UTC day (2026-11-01) or whole hour (ISO 8601); default: 30 days before --until',
    )
    .option('--until <time>', 'up to (not including) this UTC day or hour; default: the end of today')
    .option('--tz <zone>', 'days of this time zone (IANA name, e.g. America/New_York) instead of UTC days')
    .option('--csv <file>', 'write every column as CSV to this file (- for standard output) instead of the table')
    .option('--json', 'print {since, until, tz, groupBy, currency, items} as JSON, as GET /v1/admin/reports answers')
    .addHelpText(
      'after',
      `
The same report as GET /v1/admin/reports, from the report rollups (never a scan of
the leads). Lead figures count leads by their arrival, in the outcome they have now;
conversions, returns, reversals and money count when they happened. Pings, bids and
wins are a partner's auctions in its group, the sources' pings otherwise (wins: the leads
posted against them), at the ping's hour. The table leaves out wins; --csv and --json
have every column.
Days are UTC days, or with --tz the days of that zone, made of UTC hours (then no geo or
channel, at most 31 days); dates in --since and --until are its midnights. Hours are UTC
hours. At most 400 days (by hour: 31), at most 20,000 groups.
${ENVIRONMENT_HELP}`,
    )
    .action(
      async (opts: { groupBy: string; since?: string; until?: string; tz?: string; csv?: string; json?: boolean }) => {
        if (opts.csv !== undefined && opts.json) throw new UsageError('give --csv or --json, not both');
        const q = parseReport(
          defined({ groupBy: opts.groupBy, since: opts.since, until: opts.until, tz: opts.tz }),
          'admin',
          new Date(),
        );
        const items = await adminReport(ctx.db(), q);
        const { CURRENCY: currency } = ctx.config();
        if (opts.json)
          return void io.stdout.write(
            json({
              since: q.since.toISOString(),
              until: q.until.toISOString(),
              tz: q.tz,
              groupBy: q.keys,
              currency,
              items,
            }),
          );
        if (opts.csv !== undefined) {
          const csv = reportCsv(q, items, currency);
          if (opts.csv === '-') return void io.stdout.write(csv);
          await writeFile(opts.csv, csv);
          return void io.stdout.write(`wrote ${plural(items.length, 'row')} and a header to ${opts.csv}\n`);
        }
        const range = `${q.since.toISOString()} – ${q.until.toISOString()} (UTC)`;
        if (items.length === 0) return void io.stdout.write(`nothing reported ${range}\n`);
        io.stdout.write(`${reportTable(q.keys, items)}amounts in ${currency}\n`);
      },
    );

  return program;
}

/** An operator's report as a table: the keys, then every figure but `wins`, rates as percentages. */
function reportTable(keys: readonly ReportKey[], items: AdminReportItem[]): string {
  const key = (item: AdminReportItem, k: ReportKey): string | null => {
    if (k === 'source' || k === 'partner') {
      const party = item[k];
      return party ? (party.name ?? party.id) : k === 'partner' ? '(no partner)' : null;
    }
    return item[k] ?? null;
  };
  const percent = (r: number | null) => (r === null ? null : `${(r * 100).toFixed(1)}%`);
  return table(
    [
      ...keys.map((k) => k.toUpperCase()),
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
    ],
    items.map((i) => [
      ...keys.map((k) => key(i, k)),
      i.leads,
      i.accepted,
      i.duplicates,
      i.sold,
      i.unsold,
      i.unmatched,
      i.deadLettered,
      i.converted,
      i.returned,
      i.reversed,
      i.revenue,
      i.cost,
      i.margin,
      percent(i.conversionRate),
      percent(i.returnRate),
      i.pings,
      i.bids,
      percent(i.winRate),
      i.averageBid,
    ]),
  );
}

/** The partner an operator named (id or name), or a refusal. */
async function partnerRef(ctx: CliContext, ref: string): Promise<{ id: string }> {
  const found = await findPartner(ctx.db(), ref);
  if (!found) throw notFound(`partner "${ref}"`);
  return found;
}

function cacheNote(ctx: CliContext, io: Io): void {
  if (ctx.invalidationFailed)
    io.stderr.write(
      "leadrouter: Redis did not take the cache invalidation; the services' caches of it expire within about 5 s\n",
    );
}

function showLead(lead: LeadDetail): string {
  let out = fields([
    ['lead', lead.id],
    ['status', lead.status],
    ['created', lead.createdAt],
    ['source', `${lead.source.name} (${lead.source.id})`],
    ...((lead.personalDataErasedAt
      ? [['personal data', `erased at ${lead.personalDataErasedAt}`]]
      : [
          ['name', lead.lead.name],
          ['phone', lead.lead.phone],
          ['email', lead.lead.email],
        ]) as [string, string | null][]),
    ['geo', lead.lead.geo],
    ['channel', lead.lead.source],
    ['route', routeOf(lead.routing)],
  ]);
  out += '\nEVENTS\n';
  out += table(
    ['AT', 'STATUS', 'PARTNER', 'NOTE'],
    lead.events.map((e) => [e.at, e.status, e.partner, noteOf(e.detail)]),
  );
  out += '\nDELIVERIES\n';
  out += lead.deliveries.length
    ? table(
        ['ID', 'PARTNER', 'STATUS', 'REFERENCE', 'ATTEMPTS', 'RETRIES', 'LAST ERROR'],
        lead.deliveries.map((d) => [
          d.id,
          d.partner,
          d.reason && d.status === 'rejected' ? `${d.status} (${d.reason})` : d.status,
          d.reference,
          d.attempts,
          d.retries,
          truncate(d.lastError, 50),
        ]),
      )
    : 'none\n';
  const attempts = lead.deliveries.flatMap((d) => d.attemptLog.map((a) => ({ partner: d.partner, ...a })));
  if (attempts.length > 0) {
    out += '\nATTEMPTS\n';
    out += table(
      ['AT', 'PARTNER', '#', 'OUTCOME', 'HTTP', 'MS', 'ERROR'],
      attempts
        .sort((a, b) => a.at.localeCompare(b.at))
        .map((a) => [a.at, a.partner, a.attempt, a.outcome, a.httpStatus, a.durationMs, truncate(a.error, 50)]),
    );
  }
  if (lead.money.entries.length > 0) {
    const partnerNames = new Map(lead.deliveries.map((d) => [d.partnerId, d.partner]));
    out += `\nMONEY  revenue ${lead.money.revenue}  cost ${lead.money.cost}  margin ${lead.money.margin}\n`;
    out += table(
      ['AT', 'PARTY', 'KIND', 'AMOUNT', 'NOTE'],
      lead.money.entries.map((e) => [
        e.at,
        e.party === 'partner' ? (partnerNames.get(e.partyId) ?? e.partyId) : 'source',
        e.kind,
        e.amount,
        e.note,
      ]),
    );
  }
  if (lead.feedback.length > 0) {
    out += '\nFEEDBACK\n';
    out += table(
      ['AT', 'PARTNER', 'EVENT', 'OUTCOME', 'REASON'],
      lead.feedback.map((f) => [f.at, f.partner, f.status ? `${f.event} (${f.status})` : f.event, f.outcome, f.reason]),
    );
  }
  if (lead.returns.length > 0) {
    out += '\nRETURNS\n';
    out += table(
      ['ID', 'PARTNER', 'STATUS', 'REASON'],
      lead.returns.map((r) => [r.id, r.partner.name, r.status, truncate(r.reason, 50)]),
    );
  }
  return out;
}

/** The route that decided, or why none did, from the stored routing record. */
function routeOf(stored: unknown): string {
  const read = readRoutingRecord(stored);
  switch (read.kind) {
    case 'none':
      return 'none';
    case 'unreadable':
      return `unknown (${read.reason})`;
    case 'record': {
      const { routeName, maxDeliveries, reason } = read.record;
      return routeName ? `${routeName} (maxDeliveries ${maxDeliveries})` : (reason ?? 'none');
    }
  }
}

function noteOf(detail: unknown): string | null {
  if (typeof detail !== 'object' || detail === null) return null;
  const d = detail as Record<string, unknown>;
  if (d.event === 'personal_data_erased')
    return `personal data erased (${d.by === 'retention' ? 'retention' : 'by an operator'})${typeof d.reason === 'string' ? `: ${d.reason}` : ''}`;
  if (typeof d.reason === 'string') return d.reason;
  if (typeof d.route === 'string') return `route ${d.route}`;
  return null;
}

/**
 * A progress bar on a terminal; one line per batch otherwise (logs of cron
 * jobs); nothing for --json. `changed` counts the dead letters requeued or
 * discarded so far (`past`, the word for it).
 */
function progressReporter(
  io: Io,
  enabled: boolean,
  doing: string,
  past: string,
): { update: (p: BulkProgress & { changed: number }) => void; stop: () => void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  if (!io.stderr.isTTY) {
    return {
      update: (p) => {
        if (p.done > 0) io.stderr.write(`… ${p.done}/${p.total} dead letters looked at, ${p.changed} ${past}\n`);
      },
      stop: () => undefined,
    };
  }
  const bar = new SingleBar(
    {
      stream: io.stderr,
      format: `${doing} |{bar}| {value}/{total} dead letters, {changed} ${past}`,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update: (p) => {
      if (!started) {
        bar.start(p.total, p.done, { changed: p.changed });
        started = true;
      } else {
        bar.setTotal(p.total);
        bar.update(p.done, { changed: p.changed });
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function deferredNote(deferred: number, io: Io): void {
  if (deferred > 0)
    io.stderr.write(
      `leadrouter: Redis did not take ${plural(deferred, 'job')}; the worker's sweeper enqueues ${deferred === 1 ? 'it' : 'them'} within about 30 s\n`,
    );
}

/** One line on stderr, and the exit code. */
function report(err: unknown, ctx: CliContext, io: Io): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage; // commander printed it
  const line = (s: string) => io.stderr.write(`leadrouter: ${s.replace(/\s*\n\s*/g, ' ')}\n`);
  if (err instanceof UsageError) {
    line(err.message);
    return EXIT.usage;
  }
  if (err instanceof AppError) {
    const problems = err.details.errors ?? [];
    line(
      err.code === 'invalid' && problems.length > 0
        ? problems.map((p) => `${optionName(p.field)}${p.message}`).join('; ')
        : err.message,
    );
    return EXIT.failed;
  }
  if (err instanceof ConfigError) {
    line(err.message);
    return EXIT.failed;
  }
  if (isDatabaseUnavailable(err)) {
    // Prisma's message quotes the call site first; its last line is the reason.
    const reason = String((err as Error).message)
      .trim()
      .split('\n')
      .pop();
    line(`cannot reach PostgreSQL at ${where(ctx)}: ${reason}`);
    return EXIT.failed;
  }
  line(`failed: ${err instanceof Error ? err.message : String(err)}`);
  return EXIT.failed;
}

/** `limit` → "--limit: ", `/partner` → "--partner: ", `groupBy` → "--group-by: ", `/` → "". */
function optionName(field: string | undefined): string {
  const name = (field ?? '').replace(/^\//, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return name ? `--${name}: ` : '';
}

/** The database's host, port and name, never its password. */
function where(ctx: CliContext): string {
  try {
    const url = new URL(ctx.config().DATABASE_URL);
    return `${url.host}${url.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

function defined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}
