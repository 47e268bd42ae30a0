export * from './local-data';
export * from './local-policy';
export * from './local-trainer';
export * from './node-client';
export * from './node-config';
export * from './start-node';
export * from './init-node';
