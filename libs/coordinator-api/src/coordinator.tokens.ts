/** Injection tokens of the coordinator module. */
export const COORDINATOR = Symbol('COORDINATOR');
export const COORDINATOR_CONFIG = Symbol('COORDINATOR_CONFIG');
export const CONNECTIONS = Symbol('CONNECTIONS');
export const COORDINATOR_LOGGER = Symbol('COORDINATOR_LOGGER');
export const COORDINATOR_IDENTITY = Symbol('COORDINATOR_IDENTITY');
