export * from './bootstrap-coordinator';
export * from './coordinator-config';
export * from './coordinator.module';
export * from './medfed-io.adapter';
export * from './socket-connection.registry';
export * from './admin-client';
export * from './init-coordinator';
