export * from './locales.js';
export * from './units.js';
export * from './errors.js';
export * from './text.js';
export * from './schemas/index.js';
