// The cluster phase (issue 16; docs/scaling.md): the whole system on a Redis
// Cluster of the benchmark's own — redis-server processes on loopback, a
// replica per master, no Docker — with 1, 2 and 3 shards (does the rate grow,
// and how are Redis's commands spread over the masters?), then a master killed
// mid-traffic on 3 shards: how long deliveries stop, and how many 202'd leads
// are lost (must be 0) or delivered twice.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { hammer, paced } = require('./clients');
const { ProcSampler } = require('./procstat');
const { settle, trackPostgres } = require('./phases');
const { poll } = require('./stack');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * How long a master may be unreachable before its replica takes over (redis.conf `cluster-node-timeout`).
 * Redis's default is 15 s; the failover gap is this plus a second or two, so the phase uses a shorter one
 * to stay short, and prints it beside the gap.
 */
const NODE_TIMEOUT_MS = 5_000;
const SLOTS = 16384;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A Redis Cluster of `masters` masters, each with one replica. `redis-cli --cluster create` wants three
 * masters at least, so the cluster is joined by hand: CLUSTER MEET, the slots split evenly over the masters
 * (ADDSLOTSRANGE), then CLUSTER REPLICATE on the replicas.
 */
class BenchCluster {
  constructor(log) {
    this.log = log;
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'leadrouter-bench-cluster-'));
    this.nodes = [];
  }

  get nodesEnv() {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  /** The services' settings: REDIS_CLUSTER_NODES, and a sub-queue per master and queue (docs/scaling.md, Sizing). */
  env(masters) {
    return { REDIS_CLUSTER_NODES: this.nodesEnv, QUEUE_PARTITIONS: String(masters * 2) };
  }

  pids() {
    return this.nodes
      .filter((n) => n.proc && n.proc.exitCode === null && n.proc.signalCode === null)
      .map((n) => n.proc.pid);
  }

  async start(masters) {
    for (let i = 0; i < masters * 2; i++) {
      const node = { port: await freePort(), busPort: await freePort() };
      node.dir = path.join(this.root, String(node.port));
      fs.mkdirSync(node.dir);
      this.nodes.push(node);
    }
    await Promise.all(this.nodes.map((n) => this.spawn(n)));
    const [first, ...others] = this.nodes;
    for (const n of others)
      await this.onNode(n.port, (r) =>
        r.call('CLUSTER', 'MEET', '127.0.0.1', String(first.port), String(first.busPort)),
      );
    const ids = await Promise.all(this.nodes.map((n) => this.onNode(n.port, (r) => r.call('CLUSTER', 'MYID'))));
    const per = Math.ceil(SLOTS / masters);
    for (let m = 0; m < masters; m++) {
      const from = m * per;
      const to = Math.min(SLOTS, from + per) - 1;
      await this.onNode(this.nodes[m].port, (r) => r.call('CLUSTER', 'ADDSLOTSRANGE', String(from), String(to)));
    }
    // A replica can follow its master only once it knows it (the gossip of the MEETs above).
    for (let m = 0; m < masters; m++) {
      const replica = this.nodes[masters + m];
      await poll(
        async () => {
          await this.onNode(replica.port, (r) => r.call('CLUSTER', 'REPLICATE', ids[m]));
          return true;
        },
        { what: `node ${replica.port} to replicate ${this.nodes[m].port}` },
      );
    }
    await this.waitHealthy();
    this.log(`Redis Cluster: ${masters} master(s), ${masters} replica(s), cluster-node-timeout ${NODE_TIMEOUT_MS} ms`);
    return this;
  }

  async spawn(node) {
    node.proc = spawn(
      'redis-server',
      [
        ...['--port', String(node.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        ...['--cluster-enabled', 'yes', '--cluster-port', String(node.busPort)],
        ...['--cluster-config-file', path.join(node.dir, 'nodes.conf')],
        ...['--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--dir', node.dir],
        ...['--logfile', path.join(node.dir, 'redis.log')],
      ],
      { stdio: 'ignore' },
    );
    await poll(
      () =>
        new Promise((resolve) => {
          const s = net.connect(node.port, '127.0.0.1', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        }),
      { what: `cluster node on ${node.port}` },
    );
  }

  async onNode(port, command) {
    const { Redis } = require('ioredis');
    const redis = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await command(redis);
    } finally {
      redis.disconnect();
    }
  }

  live() {
    return this.nodes.filter((n) => n.proc && n.proc.exitCode === null && n.proc.signalCode === null);
  }

  /** Masters serving slots now, as the first live node sees them: [{port, id}]. */
  async masters() {
    const text = await this.onNode(this.live()[0].port, (r) => r.call('CLUSTER', 'NODES'));
    return text
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([, , flags, , , , , , ...slots]) => /master/.test(flags) && !/fail/.test(flags) && slots.length > 0)
      .map(([id, address]) => ({ id, port: Number(address.split('@')[0].split(':')[1]) }));
  }

  /** Whether a live node still sees the node at `port` as a master with slots (failed or not). */
  async servesSlots(port) {
    const text = await this.onNode(this.live()[0].port, (r) => r.call('CLUSTER', 'NODES'));
    return text
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .some(
        ([, address, flags, , , , , , ...slots]) =>
          Number(address.split('@')[0].split(':')[1]) === port && /master/.test(flags) && slots.length > 0,
      );
  }

  /** Every live node says the cluster is ok with every slot served, and each replica's link to its master is up. */
  async waitHealthy(timeoutMs = 60_000) {
    await poll(
      async () => {
        for (const n of this.live()) {
          const info = await this.onNode(n.port, (r) => r.call('CLUSTER', 'INFO'));
          if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
          const replication = await this.onNode(n.port, (r) => r.info('replication'));
          if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 200, what: 'the Redis Cluster to be healthy' },
    );
  }

  /** Commands each master has run so far (INFO stats' total_commands_processed), by port. */
  async commandsByMaster() {
    const out = {};
    for (const { port } of await this.masters()) {
      const stats = await this.onNode(port, (r) => r.info('stats'));
      out[port] = Number(/total_commands_processed:(\d+)/.exec(stats)[1]);
    }
    return out;
  }

  async kill(port) {
    const node = this.nodes.find((n) => n.port === port);
    const exited = new Promise((resolve) => node.proc.once('exit', resolve));
    node.proc.kill('SIGKILL');
    await exited;
  }

  async destroy() {
    await Promise.all(this.live().map((n) => this.kill(n.port)));
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** The bench's own single redis-server (REDIS_URL), measured the same way as a cluster, for comparison. */
class OneServer {
  constructor(stack) {
    this.stack = stack;
  }

  env() {
    return {};
  }

  pids() {
    return [this.stack.redisChild.pid];
  }

  async commandsByMaster() {
    const stats = await this.stack.redis.info('stats');
    return { [this.stack.redisPort]: Number(/total_commands_processed:(\d+)/.exec(stats)[1]) };
  }

  async destroy() {}
}

/**
 * Partner receipts and lead statuses once the posted leads have settled (phases.settle, with its checks). A lead
 * whose job was lost with a failed master waits for the sweeper (ROUTING_GRACE_MS, 60 s, packages/lifecycle
 * sweep.ts), so the wait for progress is longer than that.
 */
async function settled(stack, partner, ids, settle, worker) {
  const t = await settle(stack, partner, ids, { stallMs: 90_000 });
  // Each lead goes to one partner: a lead it received more than once was delivered twice.
  if (t.sentAgain > 0 && worker)
    stack.log(`${t.sentAgain} leads sent twice; the worker's last lines:\n${worker.output.slice(-3000)}`);
  if (t.lost > 0 && worker)
    stack.log(`${t.lost} leads not delivered; the worker's last lines:\n${worker.output.slice(-6000)}`);
  return { ...t, duplicates: t.sentAgain };
}

/** The services on the cluster: an ingest, a worker, the instant partner and a route to it. */
async function startOnCluster(stack, cluster, masters, opts, name) {
  const env = cluster.env(masters);
  const partner = await stack.startHelper('partner (instant)', 'partner.js');
  // Wired through the operator's ingest (on the bench's single Redis) before the measured services start, so
  // they read the route from PostgreSQL at start and no cache invalidation has to reach them.
  const { apiKey } = await stack.wire(name, partner.url);
  const ingest = await stack.startService('ingest', { env, nodeArgs: opts.nodeArgs });
  const worker = await stack.startService('worker', { env, nodeArgs: opts.nodeArgs });
  return { partner, ingest, worker, apiKey };
}

function sampler(stack, cluster, own) {
  const s = new ProcSampler();
  for (const [label, child] of Object.entries(own)) s.track(label, [child.pid]);
  s.track('redis-server (every node)', () => cluster.pids(), { group: true });
  trackPostgres(s, stack);
  s.track('load generator (bench)', process.pid);
  return s.start();
}

/** The longest time without a delivery between `from` and the last delivery (partner clock, ms). */
function longestGap(times, from) {
  const after = times.filter((t) => t >= from).sort((a, b) => a - b);
  let gap = 0;
  let previous = from;
  for (const t of after) {
    gap = Math.max(gap, t - previous);
    previous = t;
  }
  return Math.round(gap);
}

async function clusterPhase({ stack, opts, pool, log }) {
  const shards = [];
  // 0: one redis-server (REDIS_URL, QUEUE_PARTITIONS=1), the same machine's figure without a cluster.
  for (const masters of [0, 1, 2, 3]) {
    await stack.reset();
    const cluster = masters === 0 ? new OneServer(stack) : await new BenchCluster(log).start(masters);
    try {
      const { partner, ingest, worker, apiKey } = await startOnCluster(
        stack,
        cluster,
        masters,
        opts,
        `bench-cluster-${masters}`,
      );
      const warm = await hammer({ url: ingest.url, apiKey, bodies: pool, amount: opts.quick ? 200 : 1000 });
      await settle(stack, partner, warm.ids);
      await partner.ask('reset');
      const before = await cluster.commandsByMaster();
      const s = sampler(stack, cluster, { ingest, worker, 'partner (instant)': partner });
      const posted = await hammer({ url: ingest.url, apiKey, bodies: pool, amount: opts.e2eLeads });
      const t = await settled(stack, partner, posted.ids, settle, worker);
      const processes = s.stop();
      const after = await cluster.commandsByMaster();
      const times = [...t.seen.values()].sort((a, b) => a - b);
      const seconds = (times[times.length - 1] - posted.firstSentAt) / 1000;
      const perLead = Object.fromEntries(
        Object.entries(after).map(([port, n]) => [
          port,
          Math.round(((n - (before[port] ?? 0)) / posted.ids.length) * 10) / 10,
        ]),
      );
      const result = {
        masters,
        queuePartitions: Math.max(1, masters * 2),
        accepted: posted.ids.length,
        non2xx: posted.non2xx + posted.errors,
        deliveredPerSecond: Math.round(t.seen.size / seconds),
        lost: t.lost,
        duplicates: t.duplicates,
        commandsPerLeadByMaster: perLead,
        commandsPerLead: Math.round(Object.values(perLead).reduce((a, b) => a + b, 0) * 10) / 10,
        processes,
      };
      log(
        `${masters === 0 ? 'one redis-server' : `cluster, ${masters} shard(s)`}: ${result.deliveredPerSecond} delivered/s, lost ${t.lost}, ` +
          `Redis commands per lead by master ${JSON.stringify(perLead)}`,
      );
      shards.push(result);
    } finally {
      await stack.stopChildren();
      await cluster.destroy();
    }
  }
  return { nodeTimeoutMs: NODE_TIMEOUT_MS, shards, failover: await failover({ stack, opts, pool, log }) };
}

/**
 * Leads posted at a steady rate to 3 shards; a third of the way in, the master that has run the most commands
 * so far is killed (SIGKILL). Its replica takes over after cluster-node-timeout; nothing is restarted.
 */
async function failover({ stack, opts, pool, log }) {
  await stack.reset();
  const cluster = await new BenchCluster(log).start(3);
  try {
    const { partner, ingest, worker, apiKey } = await startOnCluster(stack, cluster, 3, opts, 'bench-cluster-failover');
    const warm = await hammer({ url: ingest.url, apiKey, bodies: pool, amount: 300 });
    await settle(stack, partner, warm.ids);
    await partner.ask('reset');
    const rate = opts.quick ? 100 : 200;
    const durationS = Math.max(3 * (NODE_TIMEOUT_MS / 1000), opts.durationS * 2);
    const before = await cluster.commandsByMaster();
    const traffic = paced({ url: ingest.url, apiKey, bodies: pool, rate, durationS });
    await sleep((durationS * 1000) / 3);
    const now = await cluster.commandsByMaster();
    const [busiest] = Object.keys(now).sort((a, b) => now[b] - (before[b] ?? 0) - (now[a] - (before[a] ?? 0)));
    const killedAt = performance.timeOrigin + performance.now();
    await cluster.kill(Number(busiest));
    log(`cluster failover: killed the master on port ${busiest}`);
    // How long until the survivors have promoted its replica and serve every slot again.
    const promoted = poll(
      async () => {
        // Until the survivors mark it failed (after cluster-node-timeout) they still list the dead master.
        if (await cluster.servesSlots(Number(busiest))) return false;
        const info = await cluster.onNode(cluster.live()[0].port, (r) => r.call('CLUSTER', 'INFO'));
        return /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info);
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'the replica to take over' },
    ).then(() => performance.timeOrigin + performance.now());
    const ran = await traffic;
    const promotedAt = await promoted;
    const ids = ran.accepted.map(([id]) => id);
    const t = await settled(stack, partner, ids, settle, worker);
    if (t.lost > 0)
      await showWhatIsLeft(stack, cluster, ids, 3 * 2).catch((err) => log(`left: not shown (${err.message})`));
    const times = [...t.seen.values()];
    const result = {
      rate,
      seconds: durationS,
      sent: ran.sent,
      accepted: ids.length,
      statuses: ran.statuses,
      answer: ran.answerLatency,
      replicaPromotedAfterMs: Math.round(promotedAt - killedAt),
      longestDeliveryGapMs: longestGap(times, killedAt),
      lost: t.lost,
      duplicates: t.duplicates,
      byStatus: t.byStatus,
    };
    log(
      `cluster failover: replica serving after ${result.replicaPromotedAfterMs} ms, longest gap in deliveries ` +
        `${result.longestDeliveryGapMs} ms, ${ids.length} accepted of ${ran.sent}, lost ${t.lost}, duplicates ${t.duplicates}`,
    );
    return result;
  } finally {
    await stack.stopChildren();
    await cluster.destroy();
  }
}

/**
 * What a failover left undelivered, for the post-mortem (docs/scaling.md): a few of those leads as PostgreSQL has
 * them (status, deliveries, events) and their jobs in Redis (in which state of which sub-queue, with its lock),
 * then the counts of every sub-queue. Only what the bench's own stack wrote: names, no contact data.
 */
async function showWhatIsLeft(stack, cluster, ids, partitions) {
  const { rows } = await stack.pg.query(
    `SELECT l.id, l.status, l.updated_at, now() AS now,
       (SELECT json_agg(json_build_object('id', d.id, 'status', d.status, 'attempts', d.attempts, 'due', d.next_attempt_at))
          FROM deliveries d WHERE d.lead_id = l.id) AS deliveries,
       (SELECT json_agg(json_build_object('status', e.status, 'at', e.at) ORDER BY e.id)
          FROM lead_events e WHERE e.lead_id = l.id) AS events
     FROM leads l WHERE l.id = ANY($1::uuid[]) AND l.status <> 'delivered' ORDER BY l.id LIMIT 5`,
    [ids],
  );
  const { Cluster } = require('ioredis');
  const { subQueueNames } = require('../../packages/queue/dist/index.js');
  const redis = new Cluster(cluster.live().map((n) => ({ host: '127.0.0.1', port: n.port })));
  const prefix = stack.env().QUEUE_PREFIX;
  const subQueues = ['route', 'deliver', 'postback'].flatMap((q) => subQueueNames(q, partitions));
  try {
    for (const lead of rows) {
      stack.log(`left: lead ${JSON.stringify(lead)}`);
      const jobIds = [lead.id, ...(lead.deliveries ?? []).map((d) => `${d.id}-a${d.attempts + 1}`)];
      for (const jobId of jobIds)
        for (const name of subQueues) {
          const key = `${prefix}:${name}:${jobId}`;
          const job = await redis.hgetall(key);
          if (Object.keys(job).length === 0) continue;
          const states = [];
          for (const list of ['wait', 'active', 'paused'])
            if ((await redis.lpos(`${prefix}:${name}:${list}`, jobId)) !== null) states.push(list);
          for (const set of ['delayed', 'completed', 'failed', 'prioritized'])
            if ((await redis.zscore(`${prefix}:${name}:${set}`, jobId)) !== null) states.push(set);
          const lock = await redis.get(`${key}:lock`);
          delete job.opts; // the job's data stays: ids and times only
          stack.log(`left:   job ${key} in [${states}] lock ${lock ? 'held' : 'none'} ${JSON.stringify(job)}`);
        }
    }
    for (const name of subQueues) {
      const counts = [];
      for (const list of ['wait', 'active']) counts.push(`${list} ${await redis.llen(`${prefix}:${name}:${list}`)}`);
      for (const set of ['delayed', 'prioritized', 'failed'])
        counts.push(`${set} ${await redis.zcard(`${prefix}:${name}:${set}`)}`);
      stack.log(`left: sub-queue ${name}: ${counts.join(', ')}`);
    }
  } finally {
    redis.disconnect();
  }
}

module.exports = { clusterPhase, failover, longestGap };
