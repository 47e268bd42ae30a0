export * from './coordinator-store.types';
export * from './coordinator-store.errors';
export * from './in-memory.store';
export { openSqliteStore } from './sqlite.store';
