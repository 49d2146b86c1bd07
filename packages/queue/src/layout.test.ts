import calculateSlot from 'cluster-key-slot';
import { QUEUES, type QueueName } from './catalog.js';
import { hashTag, partitionOf, redisKeys, subQueueName } from './layout.js';

const queues = Object.values(QUEUES) as QueueName[];

/** The master of `slot` when `masters` masters hold equal ranges, as `redis-cli --cluster create` splits them. */
function masterOf(slot: number, masters: number): number {
  const perMaster = 16384 / masters;
  for (let m = masters - 1; m > 0; m--) if (slot >= Math.round(m * perMaster)) return m;
  return 0;
}

describe('the key layout on a Redis Cluster', () => {
  it('names sub-queues as they have always been named (they are data in Redis)', () => {
    expect(queues.map((q) => [0, 1, 2, 3].map((i) => subQueueName(q, i)))).toEqual([
      ['{route-0.234}', '{route-1.252}', '{route-2.23}', '{route-3.347}'],
      ['{deliver-0.35}', '{deliver-1.101}', '{deliver-2.78}', '{deliver-3.393}'],
      ['{postback-0.18}', '{postback-1.7}', '{postback-2.333}', '{postback-3.70}'],
    ]);
  });

  it('gives every sub-queue a hash tag of its own, so all keys of one sub-queue share a slot', () => {
    const names = queues.flatMap((q) => Array.from({ length: 32 }, (_, i) => subQueueName(q, i)));
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      expect(name).toMatch(/^\{[a-z]+-\d+\.\d+\}$/);
      const slot = calculateSlot(`leadrouter:${name}:wait`);
      for (const suffix of ['meta', 'id', 'active', 'delayed', 'events', 'some-job-id'])
        expect(calculateSlot(`leadrouter:${name}:${suffix}`)).toBe(slot);
    }
  });

  it('shares the sub-queues evenly among three masters, and spreads each queue over them', () => {
    for (let partitions = 1; partitions <= 8; partitions++) {
      const perMaster = [0, 0, 0];
      for (const q of queues) {
        // One queue's sub-queues: at most one more on a master than an even share.
        const own = [0, 0, 0];
        for (let i = 0; i < partitions; i++) {
          const master = masterOf(calculateSlot(subQueueName(q, i)), 3);
          perMaster[master]!++;
          own[master]!++;
        }
        expect({ partitions, q, most: Math.max(...own) <= Math.ceil(partitions / 3) + 1 }).toEqual({
          partitions,
          q,
          most: true,
        });
      }
      expect({ partitions, perMaster }).toEqual({ partitions, perMaster: [partitions, partitions, partitions] });
    }
    // More masters: every one of six gets sub-queues once there are two per queue.
    const six = new Set(queues.flatMap((q) => [0, 1].map((i) => masterOf(calculateSlot(subQueueName(q, i)), 6))));
    expect(six.size).toBe(6);
  });

  it('puts a job id in the same sub-queue every time, and spreads ids evenly', () => {
    expect(partitionOf('3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a11', 1)).toBe(0);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const id = `lead-${i}`;
      const p = partitionOf(id, 4);
      expect(partitionOf(id, 4)).toBe(p);
      counts[p]!++;
    }
    for (const n of counts) expect(n).toBeGreaterThan(900);
  });

  it('tags the counters of a source, partner or route by its id', () => {
    const keys = redisKeys('leadrouter');
    expect(keys.partnerSlots('p-1')).toBe('leadrouter:slots:{p-1}');
    expect(keys.rotation('r-1')).toBe('leadrouter:rr:{r-1}');
    expect(`${keys.rateLimit(60)}:${hashTag('s-1')}`).toBe('leadrouter:rl:60:{s-1}');
    expect(calculateSlot(`${keys.rateLimit(60)}:${hashTag('s-1')}`)).toBe(calculateSlot('s-1'));
  });
});
