import type { Job, JobsOptions, JobType, Queue } from 'bullmq';
import type { QueueName } from './catalog.js';
import { partitionOf } from './layout.js';

/** Options of a job added here: its id is required, it picks the sub-queue. */
export type PartitionedJobOptions = JobsOptions & { jobId: string };

/**
 * One queue of the catalog as its sub-queues (ADR 0024): a job is added to,
 * and looked up in, the sub-queue its job id hashes to; counts are summed over
 * the sub-queues. Sub-queues of a layout being left (QUEUE_PARTITIONS lowered,
 * or the single queue of before) that a worker drains are searched too, so a
 * job waiting there is not added a second time.
 */
export class PartitionedQueue<T> {
  private readonly draining = new Set<Queue>();

  constructor(
    /** The queue of the catalog (`route`): what metrics and the admin API call it. */
    readonly name: QueueName,
    /** Sub-queue i is `parts[i]`. */
    readonly parts: Queue<T>[],
  ) {}

  /** The sub-queue of `jobId`. */
  partOf(jobId: string): Queue<T> {
    return this.parts[partitionOf(jobId, this.parts.length)]!;
  }

  /** Adds a job to its sub-queue (a job id already there: nothing happens, as with BullMQ's add). */
  async add(name: string, data: T, opts: PartitionedJobOptions): Promise<Job<T>> {
    return (this.partOf(opts.jobId) as Queue).add(name, data, opts) as Promise<Job<T>>;
  }

  /** Adds jobs, each to its sub-queue, in one bulk per sub-queue; rejects when any sub-queue refused its share. */
  async addBulk(jobs: { name: string; data: T; opts: PartitionedJobOptions }[]): Promise<void> {
    const byPart = new Map<Queue<T>, typeof jobs>();
    for (const job of jobs) {
      const part = this.partOf(job.opts.jobId);
      byPart.set(part, [...(byPart.get(part) ?? []), job]);
    }
    const results = await Promise.allSettled(
      [...byPart].map(([part, share]) => (part as Queue).addBulk(share as Parameters<Queue['addBulk']>[0])),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The job with this id, in its sub-queue or in one being drained. */
  async getJob(jobId: string): Promise<Job<T> | undefined> {
    const own = await this.partOf(jobId).getJob(jobId);
    if (own) return own;
    for (const queue of this.draining) {
      const job = (await queue.getJob(jobId)) as Job<T> | undefined;
      if (job) return job;
    }
    return undefined;
  }

  /** Jobs by state, summed over the sub-queues. */
  async getJobCounts(...types: JobType[]): Promise<Record<string, number>> {
    const counts = await Promise.all(this.parts.map((part) => part.getJobCounts(...types)));
    const sum: Record<string, number> = {};
    for (const c of counts) for (const [state, n] of Object.entries(c)) sum[state] = (sum[state] ?? 0) + n;
    return sum;
  }

  /** Jobs in these states, of every sub-queue. */
  async getJobs(types: JobType[]): Promise<Job<T>[]> {
    return (await Promise.all(this.parts.map((part) => part.getJobs(types)))).flat() as Job<T>[];
  }

  /** While a worker drains `queue` (a sub-queue of another layout), look for jobs there too. */
  drainFrom(queue: Queue): void {
    this.draining.add(queue);
  }

  stopDraining(queue: Queue): void {
    this.draining.delete(queue);
  }

  /** Removes every sub-queue and its jobs (tests). */
  async obliterate(opts?: { force?: boolean }): Promise<void> {
    await Promise.all(this.parts.map((part) => part.obliterate(opts)));
  }

  async close(): Promise<void> {
    await Promise.all(this.parts.map((part) => part.close()));
  }
}
