export * from './catalog.js';
export * from './connection.js';
