export * from './cursor.js';
export * from './params.js';
export * from './refs.js';
export * from './transaction.js';
export * from './dead-letters.js';
export * from './leads.js';
export * from './dry-run.js';
export * from './partner-health.js';
