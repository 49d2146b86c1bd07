export * from './amount.js';
export * from './payout.js';
export * from './ledger.js';
export * from './status.js';
