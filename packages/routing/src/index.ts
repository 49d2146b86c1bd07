export * from './filters.js';
export * from './decide.js';
