export * from './client.js';
export * from './migrate.js';
export * from './sql.js';
export * from './statements.js';
export * from './tables/deliveries.js';
export * from './tables/leads.js';
export * from './tables/partners.js';
export * from './tables/postbacks.js';
