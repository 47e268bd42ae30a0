export * from './secagg.error';
export * from './secagg.types';
export * from './shamir.util';
export * from './quantize.util';
export { DEFAULT_MAX_WEIGHT, consistencyMessage, fingerprintIsKeyOf } from './secagg-protocol.util';
export type { SignatureCheck } from './secagg-protocol.util';
export * from './secagg.client';
export * from './secagg.server';
export * from './secagg-wire';
