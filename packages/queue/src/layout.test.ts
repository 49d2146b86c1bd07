import calculateSlot from 'cluster-key-slot';
import { PING_QUEUE, QUEUES, type PartitionedName } from './catalog.js';
import { hashTag, partitionOf, redisKeys, subQueueName } from './layout.js';

// The pings' lists are under the `ping` sub-queues' tags (ADR 0032, "Pings off BullMQ").
const queues: PartitionedName[] = [...Object.values(QUEUES), PING_QUEUE];

/** The master of `slot` when `masters` masters hold equal ranges, as `redis-cli --cluster create` splits them. */
function masterOf(slot: number, masters: number): number {
  const perMaster = 16384 / masters;
  for (let m = masters - 1; m > 0; m--) if (slot >= Math.round(m * perMaster)) return m;
  return 0;
}

describe('the key layout on a Redis Cluster', () => {
  it('names sub-queues as they have always been named (they are data in Redis)', () => {
    expect(queues.map((q) => [0, 1, 2, 3].map((i) => subQueueName(q, i)))).toEqual([
      ['{route-0.234}', '{route-1.79}', '{route-2.42}', '{route-3.133}'],
      ['{deliver-0.123}', '{deliver-1.772}', '{deliver-2.320}', '{deliver-3.278}'],
      ['{postback-0.360}', '{postback-1.77}', '{postback-2.82}', '{postback-3.65}'],
      ['{ping-0.242}', '{ping-1.132}', '{ping-2.747}', '{ping-3.79}'],
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

  /**
   * How many sub-queues of each queue, and of the lead's three (route, deliver, postback), each of `masters` equal
   * masters holds. The ping queue (sources' pings, ADR 0032) is spread on its own: four queues of one sub-queue
   * each cannot be even on three masters.
   */
  const spread = (partitions: number, masters: number) => {
    const total: number[] = Array(masters).fill(0);
    const own = queues.map(() => Array<number>(masters).fill(0));
    queues.forEach((q, k) => {
      for (let i = 0; i < partitions; i++) {
        const master = masterOf(calculateSlot(subQueueName(q, i)), masters);
        own[k]![master]!++;
        if (q !== 'ping') total[master]!++;
      }
    });
    return { total, own };
  };

  it('shares up to six sub-queues of each queue evenly among three masters', () => {
    for (let partitions = 1; partitions <= 6; partitions++) {
      const even = (n: number) => Array<number>(3).fill(n);
      const { total, own } = spread(partitions, 3);
      for (const counts of own) {
        // One on each master first, then two each…
        expect({ partitions, most: Math.max(...counts), least: Math.min(...counts) }).toEqual({
          partitions,
          most: Math.ceil(partitions / 3),
          least: Math.floor(partitions / 3),
        });
      }
      expect({ partitions, total }).toEqual({ partitions, total: even(partitions) });
    }
  });

  it('spreads each queue over more masters with at most one sub-queue above an even share', () => {
    for (const masters of [3, 4, 5, 6])
      for (let partitions = 1; partitions <= 8; partitions++)
        for (const counts of spread(partitions, masters).own)
          expect({ masters, partitions, most: Math.max(...counts) <= Math.ceil(partitions / masters) + 1 }).toEqual({
            masters,
            partitions,
            most: true,
          });
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
