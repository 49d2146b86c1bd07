export * from './payload.js';
export * from './classify.js';
export * from './send.js';
export * from './request.js';
export * from './answer.js';
export * from './destination.js';
export * from './agents.js';
export * from './signing.js';
