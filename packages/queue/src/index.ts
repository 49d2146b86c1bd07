export * from './catalog.js';
export * from './connection.js';
export * from './invalidation.js';
