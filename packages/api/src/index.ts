export * from './table.js';
export * from './components.js';
export * from './pagination.js';
export * from './bodies.js';
export * from './answers.js';
export * from './openapi.js';
export * from './routes.js';
export * from './examples.js';
