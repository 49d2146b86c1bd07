// What PostgreSQL spends on a group's sale lines (docs/performance.md, "One ledger INSERT a group of sales"): in a
// migrated database of its own (DATABASE_URL, e.g. a copy of the tests' template), groups of GROUP leads' sales
// (two lines each, as the worker writes them) are committed in one transaction each, alternately as one
// INSERT_ENTRIES a lead (before) and as the combinable APPEND_ENTRIES (one INSERT a group), blocks of ROUNDS
// groups, BLOCKS of each. Prints the PostgreSQL backend's CPU (utime + stime, /proc) and the wall time per lead.
// Run after `npm run build`: node scripts/bench/sale-lines.js
'use strict';
const fs = require('node:fs');
const { randomUUID } = require('node:crypto');
const pg = require('pg');
const db = require('../../packages/db/dist/index.js');

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL: a migrated database of its own (it writes a source, a partner and leads)');
const GROUP = Number(process.env.GROUP ?? 8);
const ROUNDS = Number(process.env.ROUNDS ?? 100);
const BLOCKS = Number(process.env.BLOCKS ?? 4);

/** The process's CPU so far (ms, user + system; the kernel counts it in ticks of 10 ms). */
function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main() {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const source = randomUUID();
  const partner = randomUUID();
  await pool.query(
    `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at) VALUES ($1, $2, $3, 'lr_bench', now())`,
    [source, `sale-lines-${source}`, source.replaceAll('-', '').padEnd(64, '0')],
  );
  await pool.query(`INSERT INTO partners (id, name, url, updated_at) VALUES ($1, $2, 'http://127.0.0.1:9', now())`, [
    partner,
    `sale-lines-${partner}`,
  ]);
  const each = GROUP * ROUNDS * BLOCKS;
  const leads = Array.from({ length: 2 * each }, () => randomUUID());
  const deliveries = leads.map(() => randomUUID());
  await pool.query(
    `INSERT INTO leads (id, source_id, status, updated_at) SELECT unnest($1::uuid[]), $2, 'routing', now()`,
    [leads, source],
  );
  await pool.query(
    `INSERT INTO deliveries (id, lead_id, partner_id, updated_at)
     SELECT unnest($1::uuid[]), unnest($2::uuid[]), $3, now()`,
    [deliveries, leads, partner],
  );
  await pool.query('ANALYZE');
  const [{ pid }] = (await pool.query('SELECT pg_backend_pid() AS pid')).rows;
  /** A lead's sale: the partner's line and the source's. */
  const lines = (i) => ({
    kinds: ['sale', 'sale'],
    eventIds: [deliveries[i], deliveries[i]],
    parties: ['partner', 'source'],
    partyIds: [partner, source],
    deliveryIds: [deliveries[i], deliveries[i]],
    amounts: [`${11 + (i % 7)}.1234`, `${3 + (i % 5)}.7071`],
    notes: [null, null],
  });
  const at = new Date();
  let next = 0;
  const group = (append) =>
    db.sqlTransaction(pool, async (tx) => {
      await tx.run(['SELECT 1']);
      const calls = [];
      for (let k = 0; k < GROUP; k++) {
        const i = next++;
        calls.push(
          append
            ? tx.call(db.APPEND_ENTRIES, { leadIds: [leads[i], leads[i]], ...lines(i), ats: [at, at] })
            : tx.call(db.INSERT_ENTRIES, { leadId: leads[i], ...lines(i), at }),
        );
      }
      await tx.commit(calls);
    });
  const cpu = { insert: 0, append: 0 };
  const wall = { insert: 0, append: 0 };
  for (let b = 0; b < 2 * BLOCKS; b++) {
    const append = b % 2 === 1;
    const [c0, t0] = [cpuMs(pid), performance.now()];
    for (let r = 0; r < ROUNDS; r++) await group(append);
    cpu[append ? 'append' : 'insert'] += cpuMs(pid) - c0;
    wall[append ? 'append' : 'insert'] += performance.now() - t0;
  }
  const [{ statements }] = (
    await pool.query(`SELECT count(DISTINCT (xmin::text, cmin::text))::int AS statements FROM ledger_entries`)
  ).rows;
  const perLead = (ms) => Math.round((ms / each) * 1000) / 1000;
  console.log(
    JSON.stringify({
      leadsPerGroup: GROUP,
      leadsEach: each,
      ledgerInserts: statements,
      postgresCpuMsPerLead: { insertEntries: perLead(cpu.insert), appendEntries: perLead(cpu.append) },
      wallMsPerLead: { insertEntries: perLead(wall.insert), appendEntries: perLead(wall.append) },
    }),
  );
  await pool.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
