export * from './filters.js';
export * from './decide.js';
export * from './schedule.js';
export * from './replay.js';
