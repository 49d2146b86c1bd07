export * from './payload.js';
export * from './classify.js';
export * from './send.js';
export * from './request.js';
export * from './answer.js';
