import { EnvelopeCodec, ModelSpec, WeightTensor } from '@medfed/protocol';
import { Identity } from '@medfed/crypto';
import { AuditSink } from '@medfed/audit';
import { CoordinatorStore } from '@medfed/coordinator-store';
import { ConnectionRegistry } from './connection-registry';
import { CoordinatorLogger } from './coordinator-logger';
import { EnrolmentService } from './enrolment.service';
import { FrameHandler } from './frame-handler';
import { Messenger } from './messenger';
import { RoundEngine, RoundEngineOptions } from './round-engine';
import { StudiesService } from './studies.service';

/** What a coordinator is made of; the transport and the model initialiser are plugged in. */
export interface CoordinatorOptions {
  store: CoordinatorStore;
  identity: Identity;
  connections: ConnectionRegistry;
  logger: CoordinatorLogger;
  /** The coordinator's own signed, hash-chained record: accepted contributions, receipts, refusals, models saved. */
  audit: AuditSink;
  initialWeights: (model: ModelSpec, seed: number) => WeightTensor[];
  /** Largest frame accepted from (and announced to) nodes, in bytes. */
  maxFrameBytes: number;
  /** Accepted clock difference between a sender and the coordinator. Default 5 minutes. */
  maxSkewMs?: number;
  now?: () => number;
  dispatchRetryMs?: number;
  dispatchGraceMs?: number;
  faultPoint?: RoundEngineOptions['faultPoint'];
}

/**
 * The coordinator's domain, wired together and free of any framework: the NestJS app, the tests
 * and the demo all drive this same object.
 */
export class Coordinator {
  readonly engine: RoundEngine;
  readonly frames: FrameHandler;
  readonly enrolment: EnrolmentService;
  readonly studies: StudiesService;
  readonly store: CoordinatorStore;

  constructor(options: CoordinatorOptions) {
    const now = options.now ?? Date.now;
    const codec = new EnvelopeCodec({
      identity: options.identity,
      maxFrameBytes: options.maxFrameBytes,
      maxSkewMs: options.maxSkewMs,
      now,
    });
    this.store = options.store;
    const messenger = new Messenger(codec, options.store, options.connections);
    this.engine = new RoundEngine({
      store: options.store,
      messenger,
      connections: options.connections,
      logger: options.logger,
      audit: options.audit,
      initialWeights: options.initialWeights,
      now,
      dispatchRetryMs: options.dispatchRetryMs,
      dispatchGraceMs: options.dispatchGraceMs,
      faultPoint: options.faultPoint,
    });
    this.enrolment = new EnrolmentService(options.store, options.logger, now, options.audit);
    this.studies = new StudiesService(options.store, this.engine, options.logger, now);
    this.frames = new FrameHandler(
      codec,
      options.identity,
      options.store,
      this.enrolment,
      this.engine,
      messenger,
      options.logger,
      options.maxFrameBytes,
      now,
      options.audit,
    );
  }

  /** Resumes every running study from the store. Call once the transport is listening. */
  start(): void {
    this.engine.resume();
  }

  /** Stops timers; the store is closed by whoever opened it. */
  shutdown(): void {
    this.engine.shutdown();
  }
}
