export * from './requests.js';
export * from './send.js';
