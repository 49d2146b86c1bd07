/**
 * What the worker tells the ingest that asked about a ping, once its answer is bound (ADR 0032): what the source
 * is answered — never a buyer's name, bid or reference.
 */
export interface PingReply {
  status: 'bid' | 'no_bid';
  /** Epoch ms after which a post against the ping is `ping_expired`. */
  expiresAt: number;
  /** Exact decimal text: the source's bid; only with a bid. */
  sourceBid?: string;
}

/**
 * Sends a ping's reply on the channel of the ingest that asked (`PingJob.replyTo`). Sent, not awaited, and never
 * fails the caller: an ingest that misses it finds the answer in the ping's binding at its deadline.
 */
export function sendPingReply(
  redis: { publish(channel: string, message: string): Promise<unknown> },
  channel: string,
  pingId: string,
  reply: PingReply,
): void {
  redis.publish(channel, JSON.stringify({ pingId, ...reply })).catch(() => undefined);
}
