/**
 * Everything of the delivery package but the HTTP client: building a partner's
 * request, reading its answer, classifying an outcome, signing, the address
 * rules. The lifecycle imports this entry so that a process that never sends
 * (an ingest serving sources) does not load got and its dependencies at start
 * (ADR 0009); `@leadrouter/delivery` is this plus `send`.
 */
export * from './payload.js';
export * from './classify.js';
export * from './request.js';
export * from './answer.js';
export * from './destination.js';
export * from './agents.js';
export * from './signing.js';
