import { Logger } from '@medfed/observability';

/** The coordinator logs through the shared structured logger; ids, counts and codes only. */
export type CoordinatorLogger = Logger;
export { JsonLinesLogger, MemoryLogger, SilentLogger } from '@medfed/observability';
