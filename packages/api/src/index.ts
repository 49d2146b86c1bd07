export * from './bodies.js';
