export * from './errors.js';
export * from './validation.js';
export * from './lead.js';
export * from './countries.js';
export * from './mask.js';
export * from './keys.js';
export * from './admin-schemas.js';
export * from './postback.js';
