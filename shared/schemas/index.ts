export * from './account.js';
export * from './profile.js';
export * from './policy.js';
export * from './credits.js';
export * from './calls.js';
export * from './admin.js';
export * from './privacy.js';
export * from './socket.js';
