export {
  PING_QUEUE,
  QUEUES,
  jobIds,
  type DeliverJob,
  type PartitionedName,
  type PingJob,
  type PostbackJob,
  type QueueName,
  type RouteJob,
} from './catalog.js';
export { keptUntil, PingBindings, type PingClaim, type PingState } from './pings.js';
export {
  Queues,
  clusterNodeProblem,
  createRedis,
  pingEveryShard,
  refuseClusterNode,
  subQueueNames,
  type RedisClient,
} from './connection.js';
export { SharedCaches, invalidationChannel, type CacheTopic, type LocalCache } from './invalidation.js';
export { OutcomeWaiters, outcomesChannel } from './outcomes.js';
export { PingConsumer, type PingConsumerOptions } from './ping-consumer.js';
export { PingLists, pingListKey } from './ping-lists.js';
export { PingReplies, type ExpectedReply } from './ping-replies.js';
export { sendPingReply, type PingReply } from './ping-reply.js';
export { ChannelSubscriber, type ChannelListener } from './subscriber.js';
export { hashTag, partitionOf, redisKeys, subQueueName } from './layout.js';
export { PartitionedQueue } from './partitioned.js';
