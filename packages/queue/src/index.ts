export * from './catalog.js';
export * from './connection.js';
export * from './invalidation.js';
export * from './layout.js';
export * from './partitioned.js';
