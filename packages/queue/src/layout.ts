import { createHash } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import type { PartitionedName } from './catalog.js';

/**
 * Where leadrouter's keys live in Redis (ADR 0024). Every key starts with
 * QUEUE_PREFIX; on a Redis Cluster the part in braces (the hash tag) picks its
 * slot, and so its shard:
 *
 * - each queue is split into QUEUE_PARTITIONS sub-queues, and each sub-queue
 *   has a hash tag of its own (`leadrouter:{route-0.17}:wait`): BullMQ needs
 *   all keys of one queue in one slot, and different sub-queues may sit on
 *   different shards;
 * - a job goes to the sub-queue its job id hashes to, so the same job id
 *   always meets itself there (adding it again is a no-op) and the sweeper
 *   finds it where it was added;
 * - counters of one source, partner or route are tagged by its id
 *   (`leadrouter:rl:60:{<source id>}`), so they spread with the ids.
 *
 * Sub-queue names are data in Redis: never change how a name is made.
 */

/** Slots of a Redis Cluster. */
const SLOTS = 16384;
/** A sub-queue's hash tag lands this close after its target slot (so in the range of slots the target starts). */
const SLOT_WINDOW = 64;

/**
 * Where each queue's points start: sub-queue 0 of the three queues in the
 * three thirds of the slot space, and, shifted by a little more than a third,
 * their later sub-queues in different thirds from one another's.
 */
const OFFSET: Record<PartitionedName, number> = { route: 0, deliver: 7 / 18, postback: 7 / 9, ping: 1 / 6 };

/** 0, 1/3, 2/3, 1/9, 4/9, 7/9, 2/9, …: the digits of `index` in base 3, mirrored after the point. */
function vanDerCorput(index: number): number {
  let value = 0;
  for (let digit = 1 / 3, i = index; i > 0; i = Math.floor(i / 3), digit /= 3) value += (i % 3) * digit;
  return value;
}

const names = new Map<string, string>();

/**
 * The BullMQ queue name of sub-queue `index` of `queue`: `{route-0.17}`, a
 * hash tag whose slot lies just after a fixed point of the slot space (the
 * base-3 van der Corput sequence, shifted per queue). On a cluster whose
 * masters hold equal slot ranges — as `redis-cli --cluster create` and
 * managed services make them — up to six sub-queues of each queue are spread
 * evenly over three masters (one on each, then two…), and spread over more
 * masters with at most one above an even share. The name depends only on the
 * queue and the index, never on the number of sub-queues.
 */
export function subQueueName(queue: PartitionedName, index: number): string {
  const key = `${queue}-${index}`;
  let name = names.get(key);
  if (name === undefined) {
    // Rounded up: a point between two slots belongs to the range starting after it (redis-cli rounds so).
    const target = Math.ceil(((vanDerCorput(index) + OFFSET[queue]) % 1) * SLOTS) % SLOTS;
    let n = 0;
    while ((calculateSlot(`${key}.${n}`) - target + SLOTS) % SLOTS >= SLOT_WINDOW) n++;
    name = `{${key}.${n}}`;
    names.set(key, name);
  }
  return name;
}

/** The sub-queue (0 … partitions - 1) a job id belongs to: a hash of the id, the same in every process. */
export function partitionOf(jobId: string, partitions: number): number {
  if (partitions === 1) return 0;
  return createHash('sha256').update(jobId).digest().readUInt32BE(0) % partitions;
}

/** `{id}`: a hash tag, so the keys of one source, partner or route share a slot of their own. */
export function hashTag(id: string): string {
  return `{${id}}`;
}

/** Keys and channels besides the queues, all under `prefix`. */
export function redisKeys(prefix: string) {
  return {
    /** rate-limiter-flexible's key prefix for sources limited to `perMinute`; the key is `hashTag(sourceId)`. */
    rateLimit: (perMinute: number) => `${prefix}:rl:${perMinute}`,
    /** rate-limiter-flexible's key prefix for requests without a valid key; the key is `hashTag(address)`. */
    authFailures: `${prefix}:authfail`,
    /** rate-limiter-flexible's key prefix for wrong admin tokens at sign-in; the key is `hashTag(address)`. */
    signIn: `${prefix}:signin`,
    /** A partner's semaphore (redis-semaphore puts `semaphore:` in front). */
    partnerSlots: (partnerId: string) => `${prefix}:slots:${hashTag(partnerId)}`,
    /** A round-robin route's position. */
    rotation: (routeId: string) => `${prefix}:rr:${hashTag(routeId)}`,
    sweeperLock: `${prefix}:sweeper-lock`,
    housekeepingLock: `${prefix}:housekeeping-lock`,
    /** Pub/sub: a message on any node of a cluster reaches every node. */
    invalidation: `${prefix}:invalidate`,
    /** Pub/sub: a lead reached its final status (its id); every ingest listens (ADR 0033). */
    outcomes: `${prefix}:outcomes`,
    /** Pub/sub: the answers to one ingest process's pings, each on that ingest's own channel (ADR 0032). */
    pingReplies: (ingestId: string) => `${prefix}:ping-replies:${ingestId}`,
    /** A ping's binding (ADR 0032): its answer, bids and expiry, and the lead posted against it; it expires by itself. */
    ping: (pingId: string) => `${prefix}:ping:${hashTag(pingId)}`,
  };
}
