import { EventEmitter } from 'node:events';
import {
  EvaluateResultBody,
  EvaluateTaskBody,
  FeatureStatistics,
  MessageKind,
  ModelSpec,
  OpenedMessage,
  ReceiptBody,
  SecAggStepBody,
  SecAggUpStep,
  StatisticsResultBody,
  StatisticsTaskBody,
  TrainResultBody,
  TrainTaskBody,
  WeightTensor,
  decodeTensors,
  encodeTensors,
  combineFeatureSums,
  isGeneratorRound,
  studyManifest,
  totalRounds,
  trainingForRound,
} from '@medfed/protocol';
import { AggregationError, ClientUpdate, Strategy, StrategyState, assertFiniteLayers, assertSameShape, createStrategy } from '@medfed/aggregation';
import {
  ContributionRecord,
  CoordinatorStore,
  DuplicateError,
  RoundKind,
  RoundRecord,
  StudyRecord,
} from '@medfed/coordinator-store';
import { ConnectionRegistry } from './connection-registry';
import { CoordinatorError } from './coordinator-errors';
import { CoordinatorLogger } from './coordinator-logger';
import { Messenger } from './messenger';
import { AuditSink } from '@medfed/audit';
import { addGaussianNoise } from '@medfed/privacy';
import { sha256Hex } from '@medfed/crypto';
import { evaluationMetrics, trainingMetrics, validationLossOf } from './round-metrics';
import { sampleSites } from './site-sampling';
import { SecureAggregationSession, SessionOutcome } from './secure-aggregation.session';
import { DEFAULT_MAX_WEIGHT } from '@medfed/secagg';
import { decodeStrategyState, encodeStrategyState } from './strategy-state.codec';

/** Progress of a study, as the engine reports it to the CLI, the REST API and tests. */
export type EngineEvent =
  | { type: 'round-started'; studyId: string; round: number; kind: RoundKind; participants: string[] }
  | { type: 'contribution'; studyId: string; round: number; kind: RoundKind; nodeId: string; bytes: number }
  | { type: 'round-completed'; studyId: string; round: number; kind: RoundKind; metrics: Record<string, unknown> }
  | { type: 'round-failed'; studyId: string; round: number; kind: RoundKind; reason: string }
  | { type: 'round-retried'; studyId: string; round: number; kind: RoundKind; attempt: number; reason: string }
  | { type: 'study-completed'; studyId: string }
  | { type: 'study-failed'; studyId: string; reason: string };

/** Points in a round's life where a fault-injection test may stop the process (see fault-injection.ts). */
export type FaultPhase = 'before-dispatch' | 'collecting' | 'aggregating' | 'after-save';

/** Dependencies of the round engine; `initialWeights` keeps tfjs out of the coordinator core. */
export interface RoundEngineOptions {
  store: CoordinatorStore;
  messenger: Messenger;
  connections: ConnectionRegistry;
  logger: CoordinatorLogger;
  /** Where saved model versions are recorded (hash of the weights, round, contributors). */
  audit?: AuditSink;
  /** Builds the version-0 global model of a study (the models lib, seeded by the study). */
  initialWeights: (model: ModelSpec, seed: number) => WeightTensor[];
  now?: () => number;
  /** How often to look again for enough connected sites before dispatching a round. Default 500 ms. */
  dispatchRetryMs?: number;
  /** How long a round waits for enrolled sites that are not connected before starting without them. Default 5 s. */
  dispatchGraceMs?: number;
  /** Called at each FaultPhase; only fault-injection tests pass one (it may kill the process). */
  faultPoint?: (phase: FaultPhase, studyId: string, round: number, kind: RoundKind) => void;
}

interface GlobalModel {
  version: number;
  tensors: WeightTensor[];
  /** The strategy's server state after producing this version. */
  state: StrategyState;
}

/** The strategy a study runs, built from its spec. */
function strategyOf(study: StudyRecord): Strategy {
  return createStrategy(study.spec.strategy, study.spec.strategyConfig);
}

/**
 * The round state machine of every running study — the one place where a round's life is decided.
 *
 * For round r = 1..R: a `train` round is dispatched to the connected sites (at least `minSites`),
 * collects one weight delta per site until all answered or the deadline passed, and is aggregated
 * with FedAvg into model version r; then an `evaluate` round sends version r to every connected site
 * and combines their test-split counts. Every transition is written to the store before it takes
 * effect, so a restarted coordinator resumes from the store (see `resume`).
 */
export class RoundEngine extends EventEmitter {
  private readonly store: CoordinatorStore;
  private readonly messenger: Messenger;
  private readonly connections: ConnectionRegistry;
  private readonly logger: CoordinatorLogger;
  private readonly audit: AuditSink | null;
  private readonly initialWeights: RoundEngineOptions['initialWeights'];
  private readonly now: () => number;
  private readonly dispatchRetryMs: number;
  private readonly dispatchGraceMs: number;
  private readonly faultPoint: NonNullable<RoundEngineOptions['faultPoint']>;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly models = new Map<string, GlobalModel>();
  /** The live secure-aggregation session of each study's open train round, and how the last one ended. */
  private readonly sessions = new Map<string, SecureAggregationSession>();
  private readonly outcomes = new Map<string, { round: number; session: number; outcome: SessionOutcome }>();
  /** Federated statistics being collected before round 1 (in memory: asked again after a restart). */
  private readonly statisticsCollections = new Map<string, { participants: string[]; answers: Map<string, StatisticsResultBody>; deadlineAt: number }>();
  private readonly featureStatistics = new Map<string, FeatureStatistics | null>();
  /** Studies stopped early whose best version is being re-evaluated as round `rounds` (the final evaluation). */
  private readonly finalEvaluations = new Map<string, number>();
  private stopped = false;

  constructor(options: RoundEngineOptions) {
    super();
    this.store = options.store;
    this.messenger = options.messenger;
    this.connections = options.connections;
    this.logger = options.logger;
    this.audit = options.audit ?? null;
    this.initialWeights = options.initialWeights;
    this.now = options.now ?? Date.now;
    this.dispatchRetryMs = options.dispatchRetryMs ?? 500;
    this.dispatchGraceMs = options.dispatchGraceMs ?? 5000;
    this.faultPoint = options.faultPoint ?? (() => undefined);
  }

  /**
   * Starts a created study: saves model version 0 and schedules round 1 — or, when the study normalises
   * with federated statistics, first collects the sites' sums and saves them with version 0.
   */
  launch(studyId: string): StudyRecord {
    const study = this.requireStudy(studyId);
    if (study.status !== 'created') {
      throw new CoordinatorError('INVALID_STATE', `study ${studyId} is ${study.status}; only a created study can be launched`);
    }
    const launched = this.store.transaction(() => {
      if (!study.spec.preprocessing?.federatedStatistics) this.saveInitialModel(study, null);
      return this.store.updateStudy(studyId, { status: 'running', updatedAt: this.now() });
    });
    this.logger.info('study.launched', { studyId, rounds: study.spec.rounds, minSites: study.spec.minSites });
    this.startRounds(launched);
    return this.requireStudy(studyId);
  }

  /** Version 0: the seeded initial weights, and the global feature statistics when the study has them. */
  private saveInitialModel(study: StudyRecord, statistics: FeatureStatistics | null): void {
    const weights = this.initialWeights(study.spec.model, study.spec.seed);
    const state = strategyOf(study).initialState(weights.map((t) => t.data));
    this.store.transaction(() => {
      this.store.saveModelVersion({
        studyId: study.id,
        version: 0,
        round: 0,
        createdAt: this.now(),
        weights: encodeTensors(weights),
        metrics: statistics ? { featureStatistics: statistics as unknown as Record<string, unknown> } : null,
        strategyState: encodeStrategyState(state),
      });
      this.store.updateStudy(study.id, { latestModelVersion: 0, updatedAt: this.now() });
    });
    this.models.set(study.id, { version: 0, tensors: weights, state });
    this.featureStatistics.set(study.id, statistics);
  }

  private startRounds(study: StudyRecord): void {
    const giveUpAt = this.now() + study.spec.roundTimeoutSeconds * 1000;
    const needsStatistics = study.spec.preprocessing?.federatedStatistics === true && !this.store.getModelVersion(study.id, 0);
    this.scheduleDispatch(study.id, 1, needsStatistics ? 'statistics' : 'train', giveUpAt);
  }

  /** The study's global feature statistics (kept with model version 0), or null when it has none. */
  private statisticsOf(studyId: string): FeatureStatistics | null {
    if (!this.featureStatistics.has(studyId)) {
      const stored = this.store.getModelVersion(studyId, 0)?.metrics?.['featureStatistics'];
      this.featureStatistics.set(studyId, stored ? (stored as unknown as FeatureStatistics) : null);
    }
    return this.featureStatistics.get(studyId) ?? null;
  }

  /** Stops a running study; outstanding answers are then refused as late. */
  stopStudy(studyId: string): StudyRecord {
    const study = this.requireStudy(studyId);
    if (study.status !== 'running') {
      throw new CoordinatorError('INVALID_STATE', `study ${studyId} is ${study.status}; only a running study can be stopped`);
    }
    this.clearTimer(studyId);
    this.logger.info('study.stopped', { studyId });
    return this.store.updateStudy(studyId, { status: 'stopped', updatedAt: this.now() });
  }

  /** Continues a stopped study: its open round (if any) keeps collecting, else the next one starts. */
  resumeStudy(studyId: string): StudyRecord {
    const study = this.requireStudy(studyId);
    if (study.status !== 'stopped') {
      throw new CoordinatorError('INVALID_STATE', `study ${studyId} is ${study.status}; only a stopped study can be resumed`);
    }
    const resumed = this.store.updateStudy(studyId, { status: 'running', updatedAt: this.now() });
    this.logger.info('study.resumed', { studyId });
    this.resumeOne(resumed);
    return resumed;
  }

  /**
   * Picks up every running study after a restart, from what the store says: an open round keeps
   * collecting until its deadline, a round that was being aggregated is aggregated again from the
   * stored contributions, a finished round leads to the next one.
   */
  resume(): void {
    for (const study of this.store.listStudies()) {
      if (study.status === 'running') this.resumeOne(study);
    }
  }

  private resumeOne(study: StudyRecord): void {
    const rounds = this.store.listRounds(study.id);
    const last = rounds[rounds.length - 1];
    this.logger.info('study.resuming', { studyId: study.id, round: last?.round ?? 0, kind: last?.kind ?? null, state: last?.state ?? null });
    if (!last) {
      this.startRounds(study);
    } else if (last.state === 'collecting') {
      // Time spent down is not the sites' fault: a deadline that passed meanwhile starts afresh.
      const open = last.deadlineAt > this.now() ? last : this.store.updateRound(study.id, last.round, last.kind, { deadlineAt: this.now() + study.spec.roundTimeoutSeconds * 1000 });
      if (open.kind === 'train' && study.spec.secureAggregation) {
        // A session's secrets lived in the old process: start the round's secure aggregation afresh.
        this.restartSecureRound(study, open, 'the coordinator restarted during secure aggregation', false);
        return;
      }
      this.armDeadline(open);
      this.redispatchOpenRound(open);
    } else if (last.state === 'aggregating') {
      if (last.kind === 'train' && study.spec.secureAggregation) {
        // The unmasked sum was never saved: the secure aggregation runs again.
        this.restartSecureRound(study, this.store.updateRound(study.id, last.round, last.kind, { state: 'collecting' }), 'the coordinator restarted while aggregating securely', false);
        return;
      }
      this.closeRound(study.id, last.round, last.kind);
    } else if (last.state === 'completed') {
      this.advance(study.id, last.round, last.kind);
    } else {
      // A round ended by a rollback: training goes on with the next round number.
      this.advance(study.id, last.round, 'evaluate');
    }
  }

  /** A node (re)connected: if it owes an answer to an open round, send it the task again. */
  onNodeConnected(nodeId: string): void {
    for (const study of this.store.listStudies()) {
      if (study.status !== 'running') continue;
      const rounds = this.store.listRounds(study.id);
      const last = rounds[rounds.length - 1];
      if (!last || last.state !== 'collecting' || !last.participants.includes(nodeId)) continue;
      const secure = last.kind === 'train' && study.spec.secureAggregation !== undefined;
      const session = this.sessions.get(study.id);
      if (secure && session && session.params.round === last.round) {
        // A live session: past its first step the site must not start over (its keys are in the other
        // sites' shares), so the session sends again the step it lost instead of the task.
        if (session.onReconnect(nodeId) === 'task') this.sendTask(study, last, nodeId);
        continue;
      }
      // Under secure aggregation without a live session, the round's contributions are those of a
      // session lost in a restart: the restarted session needs every site again.
      const answered = !secure && this.store.listContributions(study.id, last.round, last.kind).some((c) => c.nodeId === nodeId);
      if (!answered) this.sendTask(study, last, nodeId);
    }
  }

  /** Accepts one site's weight delta for an open train round, or throws a CoordinatorError. */
  onTrainResult(nodeId: string, msg: OpenedMessage<TrainResultBody>): ReceiptBody {
    const body = msg.body;
    const { study, round } = this.requireOpenRound(nodeId, msg, 'train');
    if (body.modelVersion !== round.modelVersionIn) {
      throw new CoordinatorError(
        'WRONG_MODEL_VERSION',
        `update for study ${study.id} round ${round.round} was computed from model version ${body.modelVersion}, expected ${round.modelVersionIn}`,
      );
    }
    const global = this.globalModel(study.id, round.modelVersionIn);
    const layers = global.tensors.map((t) => t.data);
    const received = msg.tensors.map((t) => t.data);
    // SCAFFOLD sends the control delta after the weight delta, layer for layer.
    const parts = study.spec.strategy === 'scaffold' ? 2 : 1;
    try {
      if (received.length !== layers.length * parts) {
        throw new AggregationError(`weight delta has ${received.length} layers; the ${study.spec.strategy} model update has ${layers.length * parts}`);
      }
      for (let p = 0; p < parts; p++) {
        const part = received.slice(p * layers.length, (p + 1) * layers.length);
        assertSameShape(layers, part, p === 0 ? 'weight delta' : 'control delta');
        assertFiniteLayers(part, p === 0 ? 'weight delta' : 'control delta');
      }
      const dp = study.spec.dp;
      if (dp && dp.placement === 'central') {
        // The coordinator adds the noise, so it can check the clipping it relies on.
        const norm = Math.sqrt(received.slice(0, layers.length).reduce((sum, l) => sum + l.reduce((a, v) => a + v * v, 0), 0));
        if (norm > dp.clipNorm * (1 + 1e-5)) {
          throw new CoordinatorError('NOT_CLIPPED', `update norm ${norm.toFixed(6)} exceeds the study's clip norm ${dp.clipNorm}`);
        }
      }
    } catch (err) {
      if (err instanceof AggregationError) {
        const code = /finite|NaN|Inf/i.test(err.message) ? 'NON_FINITE' : 'SHAPE_MISMATCH';
        throw new CoordinatorError(code, err.message);
      }
      throw err;
    }
    const receivedAt = this.now();
    this.addContribution(() =>
      this.store.addContribution({
        studyId: study.id,
        round: round.round,
        kind: 'train',
        nodeId,
        receivedAt,
        frameBytes: msg.frameBytes,
        frameSha256: msg.frameSha256,
        numExamples: body.numExamples,
        payload: encodeTensors(msg.tensors),
        metrics: { meanLoss: body.meanLoss, durationMs: body.durationMs, backend: body.backend },
      }),
      study.id,
      round,
      nodeId,
    );
    this.afterContribution(study.id, round, nodeId, msg.frameBytes);
    return { studyId: study.id, round: round.round, nodeId, frameSha256: msg.frameSha256, numExamples: body.numExamples, receivedAt };
  }

  /** Accepts one site's evaluation counts for an open evaluate round, or throws a CoordinatorError. */
  onEvaluateResult(nodeId: string, msg: OpenedMessage<EvaluateResultBody>): ReceiptBody {
    const body = msg.body;
    const { study, round } = this.requireOpenRound(nodeId, msg, 'evaluate');
    if (body.modelVersion !== round.modelVersionIn) {
      throw new CoordinatorError(
        'WRONG_MODEL_VERSION',
        `evaluation for study ${study.id} round ${round.round} used model version ${body.modelVersion}, expected ${round.modelVersionIn}`,
      );
    }
    const receivedAt = this.now();
    const metrics: Record<string, unknown> = { suppressed: body.suppressed };
    if (!body.suppressed) {
      Object.assign(metrics, {
        numCorrect: body.numCorrect,
        lossSum: body.lossSum,
        truePositives: body.truePositives,
        falsePositives: body.falsePositives,
        trueNegatives: body.trueNegatives,
        falseNegatives: body.falseNegatives,
        ...(body.scores ? { scores: body.scores } : {}),
        ...(body.rates ? { rates: body.rates } : {}),
        ...(body.validation ? { validation: body.validation } : {}),
        ...(body.importance ? { importance: body.importance } : {}),
      });
    }
    this.addContribution(
      () =>
        this.store.addContribution({
          studyId: study.id,
          round: round.round,
          kind: 'evaluate',
          nodeId,
          receivedAt,
          frameBytes: msg.frameBytes,
          frameSha256: msg.frameSha256,
          numExamples: body.numExamples,
          payload: null,
          metrics,
        }),
      study.id,
      round,
      nodeId,
    );
    this.afterContribution(study.id, round, nodeId, msg.frameBytes);
    return { studyId: study.id, round: round.round, nodeId, frameSha256: msg.frameSha256, numExamples: body.numExamples, receivedAt };
  }

  /** One secure-aggregation step from a site of an open train round. */
  onSecAggUp(nodeId: string, msg: OpenedMessage<SecAggStepBody<SecAggUpStep>>): void {
    const { study, round } = this.requireOpenRound(nodeId, msg, 'train');
    if (msg.body.modelVersion !== round.modelVersionIn) {
      throw new CoordinatorError('WRONG_MODEL_VERSION', `secure-aggregation step for model version ${msg.body.modelVersion}, expected ${round.modelVersionIn}`);
    }
    const session = this.sessions.get(study.id);
    if (!session || session.params.round !== round.round) {
      throw new CoordinatorError('ROUND_CLOSED', `no secure-aggregation session is open for round ${round.round} of study ${study.id}`);
    }
    session.onUp(nodeId, msg);
  }

  /** A site declined a task: recorded; the round closes without it. */
  onDeclined(nodeId: string, studyId: string, round: number, reason: string): void {
    this.store.addSiteEvent({ at: this.now(), nodeId, kind: 'declined', studyId, round, detail: reason });
    this.logger.warn('task.declined', { nodeId, studyId, round, reason });
  }

  /** Clears every timer; the engine does nothing more. */
  shutdown(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  // ---- internals -------------------------------------------------------------------------------

  private requireStudy(studyId: string): StudyRecord {
    const study = this.store.getStudy(studyId);
    if (!study) throw new CoordinatorError('UNKNOWN_STUDY', `no study with id ${studyId}`);
    return study;
  }

  private requireOpenRound(
    nodeId: string,
    msg: OpenedMessage<{ studyId: string; round: number }>,
    kind: RoundKind,
  ): { study: StudyRecord; round: RoundRecord } {
    const { studyId, round: roundNo } = msg.body;
    if (msg.header.studyId !== studyId || msg.header.round !== roundNo) {
      throw new CoordinatorError('WRONG_ROUND', `envelope is for study ${msg.header.studyId} round ${msg.header.round} but the body says ${studyId} round ${roundNo}`);
    }
    const study = this.requireStudy(studyId);
    if (study.status !== 'running') {
      throw new CoordinatorError('STUDY_NOT_RUNNING', `study ${studyId} is ${study.status}`);
    }
    const round = this.store.getRound(studyId, roundNo, kind);
    if (!round) {
      throw new CoordinatorError('WRONG_ROUND', `study ${studyId} has no ${kind} round ${roundNo} (current round ${study.currentRound})`);
    }
    if (round.state !== 'collecting') {
      this.store.addSiteEvent({ at: this.now(), nodeId, kind: 'late', studyId, round: roundNo, detail: `${kind} round already ${round.state}` });
      throw new CoordinatorError('ROUND_CLOSED', `${kind} round ${roundNo} of study ${studyId} is already ${round.state}`);
    }
    if (!round.participants.includes(nodeId)) {
      throw new CoordinatorError('NOT_A_PARTICIPANT', `node ${nodeId} was not selected for ${kind} round ${roundNo} of study ${studyId}`);
    }
    return { study, round };
  }

  private addContribution(write: () => void, studyId: string, round: RoundRecord, nodeId: string): void {
    try {
      write();
    } catch (err) {
      if (err instanceof DuplicateError) {
        throw new CoordinatorError(
          'DUPLICATE_CONTRIBUTION',
          `node ${nodeId} already contributed to ${round.kind} round ${round.round} of study ${studyId}`,
        );
      }
      throw err;
    }
  }

  private afterContribution(studyId: string, round: RoundRecord, nodeId: string, bytes: number): void {
    this.faultPoint('collecting', studyId, round.round, round.kind);
    this.emit('event', { type: 'contribution', studyId, round: round.round, kind: round.kind, nodeId, bytes } satisfies EngineEvent);
    const answered = new Set(this.store.listContributions(studyId, round.round, round.kind).map((c) => c.nodeId));
    if (round.participants.every((p) => answered.has(p))) {
      // Close after the current handler has sent its receipt.
      setImmediate(() => this.closeRound(studyId, round.round, round.kind));
    }
  }

  private globalModel(studyId: string, version: number): GlobalModel {
    const cached = this.models.get(studyId);
    if (cached && cached.version === version) return cached;
    const stored = this.store.getModelVersion(studyId, version);
    if (!stored) throw new CoordinatorError('INVALID_STATE', `study ${studyId} has no model version ${version}`);
    const model = { version, tensors: decodeTensors(stored.weights), state: decodeStrategyState(stored.strategyState) };
    this.models.set(studyId, model);
    return model;
  }

  /**
   * Dispatches a round once its sites are there: at once when every enrolled site is connected;
   * otherwise after waiting up to `dispatchGraceMs` for the missing ones (sites reconnecting after a
   * network blip or a coordinator restart), with whoever is connected if that is enough; the study
   * fails if not enough sites come before `giveUpAt`.
   */
  private scheduleDispatch(studyId: string, round: number, kind: RoundKind | 'statistics', giveUpAt: number, gatherUntil = this.now() + this.dispatchGraceMs): void {
    if (this.stopped) return;
    const study = this.store.getStudy(studyId);
    if (!study || study.status !== 'running') return;
    const enrolled = this.store.listNodes().filter((n) => n.status === 'enrolled').length;
    const connected = this.connections.connectedNodeIds().filter((id) => this.store.getNode(id)?.status === 'enrolled');
    const needed = kind === 'evaluate' ? 1 : study.spec.minSites;
    const retry = (): void => this.setTimer(studyId, () => this.scheduleDispatch(studyId, round, kind, giveUpAt, gatherUntil), this.dispatchRetryMs);
    if (connected.length < enrolled && this.now() < gatherUntil) {
      retry();
      return;
    }
    if (connected.length < needed) {
      if (this.now() >= giveUpAt) {
        this.failStudy(studyId, `only ${connected.length} of the ${needed} sites needed were connected for ${kind} round ${round}`);
        return;
      }
      retry();
      return;
    }
    if (kind === 'statistics') {
      this.dispatchStatistics(study, connected.sort());
      return;
    }
    const participants =
      kind === 'train'
        ? sampleSites(connected, study.spec.siteFraction ?? 1, study.spec.minSites, `${study.spec.seed}/${study.id}/${round}`)
        : connected.sort();
    this.dispatch(study, round, kind, participants);
  }

  private dispatch(study: StudyRecord, roundNo: number, kind: RoundKind, participants: string[]): void {
    this.faultPoint('before-dispatch', study.id, roundNo, kind);
    // A train round starts from the study's current model (the previous round's, or one rolled back to).
    // An evaluate round scores the version its train round made — or, for the final evaluation after early stopping, the best one.
    const versionIn = kind === 'train' ? (study.latestModelVersion ?? roundNo - 1) : (this.finalEvaluations.get(study.id) ?? roundNo);
    const startedAt = this.now();
    const record: RoundRecord = {
      studyId: study.id,
      round: roundNo,
      kind,
      state: 'collecting',
      modelVersionIn: versionIn,
      modelVersionOut: null,
      participants,
      startedAt,
      deadlineAt: startedAt + study.spec.roundTimeoutSeconds * 1000,
      closedAt: null,
      failureReason: null,
      metrics: null,
    };
    this.store.transaction(() => {
      this.store.createRound(record);
      if (kind === 'train') this.store.updateStudy(study.id, { currentRound: roundNo, updatedAt: startedAt });
    });
    if (kind === 'train' && study.spec.secureAggregation) this.startSession(study, record);
    this.logger.info('round.dispatched', { studyId: study.id, round: roundNo, kind, participants, modelVersion: versionIn });
    this.emit('event', { type: 'round-started', studyId: study.id, round: roundNo, kind, participants } satisfies EngineEvent);
    for (const nodeId of participants) this.sendTask(study, record, nodeId);
    this.armDeadline(record);
  }

  private sendTask(study: StudyRecord, round: RoundRecord, nodeId: string): void {
    const global = this.globalModel(study.id, round.modelVersionIn);
    const weights = global.tensors;
    const common = {
      studyId: study.id,
      round: round.round,
      modelVersion: round.modelVersionIn,
      dataset: study.spec.dataset,
      model: study.spec.model,
      manifest: studyManifest(study.id, study.spec),
      ...(this.statisticsOf(study.id) ? { statistics: this.statisticsOf(study.id) as FeatureStatistics } : {}),
    };
    // Strategy payload layers (SCAFFOLD's c) have the model's shapes.
    const payload = strategyOf(study)
      .trainPayload(global.state)
      .map((data, i) => ({ shape: weights[i % weights.length].shape, data }));
    const sent =
      round.kind === 'train'
        ? this.messenger.send<TrainTaskBody>(nodeId, MessageKind.TrainTask, {
            studyId: study.id,
            round: round.round,
            body: {
              ...common,
              training: trainingForRound(study.spec, round.round),
              deadlineAt: round.deadlineAt,
              strategy: study.spec.strategy,
              participants: round.participants.length,
              ...this.secaggTaskParams(study),
            },
            tensors: [...weights, ...payload],
            seal: true,
          })
        : this.messenger.send<EvaluateTaskBody>(nodeId, MessageKind.EvaluateTask, {
            studyId: study.id,
            round: round.round,
            body: common,
            tensors: weights,
            seal: true,
          });
    this.logger.info('task.sent', { studyId: study.id, round: round.round, kind: round.kind, nodeId, bytes: sent.bytes, delivered: sent.delivered });
  }

  private redispatchOpenRound(round: RoundRecord): void {
    const study = this.requireStudy(round.studyId);
    const answered = new Set(this.store.listContributions(round.studyId, round.round, round.kind).map((c) => c.nodeId));
    const connected = new Set(this.connections.connectedNodeIds());
    for (const nodeId of round.participants) {
      if (!answered.has(nodeId) && connected.has(nodeId)) this.sendTask(study, round, nodeId);
    }
  }

  private armDeadline(round: RoundRecord): void {
    const wait = Math.max(0, round.deadlineAt - this.now());
    this.setTimer(round.studyId, () => this.closeRound(round.studyId, round.round, round.kind), wait);
  }

  /** Closes a round: aggregates (train) or combines counts (evaluate), then moves the study on. */
  private closeRound(studyId: string, roundNo: number, kind: RoundKind): void {
    if (this.stopped) return;
    const round = this.store.getRound(studyId, roundNo, kind);
    const study = this.store.getStudy(studyId);
    if (!round || !study || study.status !== 'running') return;
    if (round.state === 'completed' || round.state === 'failed') return;
    this.clearTimer(studyId);
    if (kind === 'train' && study.spec.secureAggregation) {
      this.closeSecureRound(study, round);
      return;
    }
    const contributions = this.store.listContributions(studyId, roundNo, kind);
    if (kind === 'train' && contributions.length < study.spec.minSites) {
      const reason = `only ${contributions.length} of the ${study.spec.minSites} sites needed answered train round ${roundNo} before its deadline`;
      if ((round.attempts ?? 1) <= (study.spec.maxRoundRetries ?? 0)) {
        this.retryRound(study, round, contributions.map((c) => c.nodeId), reason);
        return;
      }
      this.store.updateRound(studyId, roundNo, kind, { state: 'failed', closedAt: this.now(), failureReason: reason });
      this.emit('event', { type: 'round-failed', studyId, round: roundNo, kind, reason } satisfies EngineEvent);
      this.failStudy(studyId, reason);
      return;
    }
    const names = new Map(this.store.listNodes().map((n) => [n.id, n.name]));
    if (kind === 'train') {
      const global = this.globalModel(studyId, round.modelVersionIn);
      const count = global.tensors.length;
      const dp = study.spec.dp;
      const updates: ClientUpdate[] = contributions.map((c) => {
        const layers = decodeTensors(c.payload ?? new Uint8Array()).map((t) => t.data);
        // DP-FedAvg averages clipped updates with equal weights: example counts would raise one site's sensitivity.
        return { delta: layers.slice(0, count), numExamples: dp ? 1 : c.numExamples, ...(layers.length > count ? { controlDelta: layers.slice(count) } : {}) };
      });
      if (dp && dp.placement === 'central') {
        // σ = z·C on the sum is N(0, (z·C)²/n) on each of the n updates: the same noise on their mean.
        const perUpdate = (dp.noiseMultiplier * dp.clipNorm) / Math.sqrt(updates.length);
        for (const u of updates) addGaussianNoise(u.delta as Float32Array[], perUpdate);
      }
      this.aggregateAndSave(study, round, updates, contributions);
      return;
    }
    this.store.updateRound(studyId, roundNo, kind, { state: 'aggregating' });
    const headline = study.spec.model.family === 'logistic-regression' || study.spec.model.family === 'mlp' ? 'accuracy' : 'auc';
    const metrics = evaluationMetrics(contributions, names, headline) as unknown as Record<string, unknown>;
    this.store.updateRound(studyId, roundNo, kind, { state: 'completed', closedAt: this.now(), metrics });
    this.finishRound(study, round, contributions, metrics);
  }

  /** Runs the study's strategy on a train round's updates and saves the new model version with the round. */
  private aggregateAndSave(study: StudyRecord, round: RoundRecord, updates: ClientUpdate[], contributions: readonly ContributionRecord[]): void {
    const studyId = study.id;
    const roundNo = round.round;
    this.store.updateRound(studyId, roundNo, 'train', { state: 'aggregating' });
    this.faultPoint('aggregating', studyId, roundNo, 'train');
    const names = new Map(this.store.listNodes().map((n) => [n.id, n.name]));
    const global = this.globalModel(studyId, round.modelVersionIn);
    const enrolled = this.store.listNodes().filter((n) => n.status === 'enrolled').length;
    const next = strategyOf(study).aggregateTrain(
      global.tensors.map((t) => t.data),
      updates,
      global.state,
      Math.max(enrolled, updates.length),
    );
    const tensors = next.global.map((data, i) => ({ shape: global.tensors[i].shape, data }));
    const metrics = trainingMetrics(contributions, names) as unknown as Record<string, unknown>;
    const version = roundNo;
    this.store.transaction(() => {
      if (!this.store.getModelVersion(studyId, version)) {
        this.store.saveModelVersion({
          studyId,
          version,
          round: roundNo,
          createdAt: this.now(),
          weights: encodeTensors(tensors),
          metrics,
          strategyState: encodeStrategyState(next.state),
        });
      }
      this.store.updateRound(studyId, roundNo, 'train', { state: 'completed', closedAt: this.now(), modelVersionOut: version, metrics });
      this.store.updateStudy(studyId, { latestModelVersion: version, updatedAt: this.now() });
    });
    this.models.set(studyId, { version, tensors, state: next.state });
    this.audit?.append('model.saved', {
      studyId,
      version,
      round: roundNo,
      strategy: study.spec.strategy,
      weightsSha256: sha256Hex(encodeTensors(tensors)),
      contributors: contributions.map((c) => c.nodeId),
    });
    this.faultPoint('after-save', studyId, roundNo, 'train');
    this.finishRound(study, round, contributions, metrics);
  }

  private finishRound(study: StudyRecord, round: RoundRecord, contributions: readonly ContributionRecord[], metrics: Record<string, unknown>): void {
    const missing = round.participants.filter((p) => !contributions.some((c) => c.nodeId === p));
    this.logger.info('round.completed', { studyId: study.id, round: round.round, kind: round.kind, contributions: contributions.length, missing });
    this.emit('event', { type: 'round-completed', studyId: study.id, round: round.round, kind: round.kind, metrics } satisfies EngineEvent);
    this.advance(study.id, round.round, round.kind);
  }

  private advance(studyId: string, roundNo: number, kind: RoundKind): void {
    const study = this.store.getStudy(studyId);
    if (!study || study.status !== 'running') return;
    const giveUpAt = this.now() + study.spec.roundTimeoutSeconds * 1000;
    const generatorRound = isGeneratorRound(study.spec, roundNo);
    if (kind === 'train') {
      // Inside a generator phase only its last version is evaluated: the classifier cannot change in it.
      if (generatorRound && roundNo < totalRounds(study.spec)) this.scheduleDispatch(studyId, roundNo + 1, 'train', giveUpAt);
      else this.scheduleDispatch(studyId, roundNo, 'evaluate', giveUpAt);
    } else if (generatorRound) {
      this.completeStudy(study, roundNo, false);
    } else if (study.spec.generatorPhase && (roundNo >= study.spec.rounds || this.stopsEarly(study, roundNo))) {
      this.startGeneratorPhase(study, roundNo, giveUpAt);
    } else if (this.stopsEarly(study, roundNo)) {
      const best = this.bestByValidation(study, roundNo);
      if (roundNo < study.spec.rounds && best !== null) {
        // The final evaluation: the best version once more, as round `rounds`, so the sites compute what they
        // compute only at the end (permutation importance, train-on-synthetic) on the model that is kept.
        this.finalEvaluations.set(studyId, best);
        this.logger.info('study.stopping-early', { studyId, afterRound: roundNo, bestVersion: best });
        this.scheduleDispatch(studyId, study.spec.rounds, 'evaluate', giveUpAt);
        return;
      }
      this.finalEvaluations.delete(studyId);
      this.completeStudy(study, roundNo, true);
    } else if (roundNo < study.spec.rounds) {
      this.scheduleDispatch(studyId, roundNo + 1, 'train', giveUpAt);
    } else {
      this.completeStudy(study, roundNo, false);
    }
  }

  private completeStudy(study: StudyRecord, roundNo: number, earlyStopping: boolean): void {
    this.store.updateStudy(study.id, { status: 'completed', updatedAt: this.now() });
    this.logger.info('study.completed', { studyId: study.id, rounds: roundNo, ...(earlyStopping ? { earlyStopping } : {}) });
    this.emit('event', { type: 'study-completed', studyId: study.id } satisfies EngineEvent);
  }

  /**
   * The main phase is over (all its rounds, or early stopping): the generator phase starts from the version the main
   * phase chose — the lowest pooled validation loss, else its latest — made current before round `rounds + 1` is
   * dispatched, so a restart in between takes the same path again.
   */
  private startGeneratorPhase(study: StudyRecord, roundNo: number, giveUpAt: number): void {
    const chosen = this.bestByValidation(study, roundNo) ?? study.latestModelVersion ?? roundNo;
    this.store.updateStudy(study.id, { latestModelVersion: chosen, updatedAt: this.now() });
    this.logger.info('study.generator-phase', { studyId: study.id, afterRound: roundNo, fromVersion: chosen, rounds: study.spec.generatorPhase?.rounds });
    this.scheduleDispatch(study.id, study.spec.rounds + 1, 'train', giveUpAt);
  }

  /**
   * Extends a train round that closed below minSites: new deadline, the task re-sent to selected
   * sites that have not answered, and sites connected since then added. Answers already received
   * stay (they were computed from the same global model).
   */
  private retryRound(study: StudyRecord, round: RoundRecord, answered: string[], reason: string): void {
    const connected = this.connections.connectedNodeIds().filter((id) => this.store.getNode(id)?.status === 'enrolled');
    const participants = [...new Set([...round.participants, ...connected])].sort();
    const attempts = (round.attempts ?? 1) + 1;
    const deadlineAt = this.now() + study.spec.roundTimeoutSeconds * 1000;
    const retried = this.store.updateRound(study.id, round.round, round.kind, { participants, deadlineAt, attempts, failureReason: reason });
    this.store.addSiteEvent({ at: this.now(), nodeId: null, kind: 'round-retried', studyId: study.id, round: round.round, detail: `attempt ${attempts}: ${reason}` });
    this.logger.warn('round.retried', { studyId: study.id, round: round.round, attempt: attempts, reason, participants });
    this.emit('event', { type: 'round-retried', studyId: study.id, round: round.round, kind: round.kind, attempt: attempts, reason } satisfies EngineEvent);
    const done = new Set(answered);
    for (const nodeId of participants) if (!done.has(nodeId)) this.sendTask(study, retried, nodeId);
    this.armDeadline(retried);
  }

  /**
   * Federated early stopping: true when the pooled validation loss has not improved by more than minDelta
   * for `patience` evaluate rounds (the same rule as the in-process simulation).
   */
  private stopsEarly(study: StudyRecord, roundNo: number): boolean {
    const rule = study.spec.earlyStopping;
    if (!rule) return false;
    const best = this.bestEvaluation(study, roundNo);
    return best !== null && roundNo - best.round >= rule.patience;
  }

  /** The evaluate round with the lowest pooled validation loss (improvements smaller than minDelta do not count). */
  private bestEvaluation(study: StudyRecord, roundNo: number): { round: number; version: number; loss: number } | null {
    let best: { round: number; version: number; loss: number } | null = null;
    for (const r of this.store.listRounds(study.id)) {
      if (r.kind !== 'evaluate' || r.state !== 'completed' || r.round > roundNo) continue;
      const loss = validationLossOf(r.metrics);
      if (loss === null) continue;
      if (best === null || loss < best.loss - (study.spec.earlyStopping?.minDelta ?? 0)) best = { round: r.round, version: r.modelVersionIn, loss };
    }
    return best;
  }

  private bestByValidation(study: StudyRecord, roundNo: number): number | null {
    return this.bestEvaluation(study, roundNo)?.version ?? null;
  }

  // ---- federated statistics --------------------------------------------------------------------

  private dispatchStatistics(study: StudyRecord, participants: string[]): void {
    const deadlineAt = this.now() + study.spec.roundTimeoutSeconds * 1000;
    this.statisticsCollections.set(study.id, { participants, answers: new Map(), deadlineAt });
    this.logger.info('statistics.requested', { studyId: study.id, participants });
    for (const nodeId of participants) {
      const sent = this.messenger.send<StatisticsTaskBody>(nodeId, MessageKind.StatisticsTask, {
        studyId: study.id,
        round: 1,
        body: { studyId: study.id, round: 1, modelVersion: 0, dataset: study.spec.dataset, manifest: studyManifest(study.id, study.spec), deadlineAt },
        seal: true,
      });
      this.logger.info('task.sent', { studyId: study.id, round: 1, kind: 'statistics', nodeId, bytes: sent.bytes, delivered: sent.delivered });
    }
    this.setTimer(study.id, () => this.closeStatistics(study.id), Math.max(0, deadlineAt - this.now()));
  }

  /** Accepts one site's per-feature sums before round 1, or throws a CoordinatorError. */
  onStatisticsResult(nodeId: string, msg: OpenedMessage<StatisticsResultBody>): ReceiptBody {
    const body = msg.body;
    const study = this.requireStudy(body.studyId);
    const collection = this.statisticsCollections.get(study.id);
    if (!collection || study.status !== 'running') {
      throw new CoordinatorError('ROUND_CLOSED', `no federated statistics are being collected for study ${study.id}`);
    }
    if (body.round !== 1 || body.modelVersion !== 0) {
      throw new CoordinatorError('WRONG_ROUND', `federated statistics belong to round 1 and model version 0, got round ${body.round} version ${body.modelVersion}`);
    }
    if (!collection.participants.includes(nodeId)) {
      throw new CoordinatorError('NOT_A_PARTICIPANT', `node ${nodeId} was not asked for the statistics of study ${study.id}`);
    }
    if (collection.answers.has(nodeId)) {
      throw new CoordinatorError('DUPLICATE_CONTRIBUTION', `node ${nodeId} already sent the statistics of study ${study.id}`);
    }
    const features = [...collection.answers.values()].find((a) => !a.suppressed)?.count?.length;
    if (!body.suppressed && features !== undefined && body.count?.length !== features) {
      throw new CoordinatorError('SHAPE_MISMATCH', `statistics of ${body.count?.length} features; the other sites sent ${features}`);
    }
    collection.answers.set(nodeId, body);
    const receivedAt = this.now();
    this.store.addSiteEvent({ at: receivedAt, nodeId, kind: 'statistics', studyId: study.id, round: 1, detail: body.suppressed ? 'suppressed: below its minimum cohort' : `${body.count?.length} features` });
    if (collection.participants.every((p) => collection.answers.has(p))) setImmediate(() => this.closeStatistics(study.id));
    return { studyId: study.id, round: 1, nodeId, frameSha256: msg.frameSha256, numExamples: body.numExamples, receivedAt };
  }

  private closeStatistics(studyId: string): void {
    const collection = this.statisticsCollections.get(studyId);
    const study = this.store.getStudy(studyId);
    if (this.stopped || !collection || !study || study.status !== 'running') return;
    this.statisticsCollections.delete(studyId);
    this.clearTimer(studyId);
    const usable = [...collection.answers.values()].filter((a) => !a.suppressed && a.count && a.sum && a.sumSquares);
    if (usable.length < study.spec.minSites) {
      this.failStudy(studyId, `only ${usable.length} of the ${study.spec.minSites} sites needed sent federated statistics before the deadline`);
      return;
    }
    const statistics = combineFeatureSums(usable.map((a) => ({ count: a.count ?? [], sum: a.sum ?? [], sumSquares: a.sumSquares ?? [] })));
    this.saveInitialModel(study, statistics);
    this.logger.info('statistics.combined', { studyId, sites: usable.length, features: statistics.count.length, examples: usable.reduce((t, a) => t + a.numExamples, 0) });
    this.scheduleDispatch(studyId, 1, 'train', this.now() + study.spec.roundTimeoutSeconds * 1000);
  }

  // ---- secure aggregation ----------------------------------------------------------------------

  private secaggTaskParams(study: StudyRecord): { secagg?: { session: number; siteIds: string[]; threshold: number; clipRange: number; maxWeight: number } } {
    const session = this.sessions.get(study.id);
    if (!session || !study.spec.secureAggregation) return {};
    const p = session.params;
    return { secagg: { session: session.session, siteIds: p.siteIds, threshold: p.threshold, clipRange: p.clipRange, maxWeight: p.maxWeight ?? DEFAULT_MAX_WEIGHT } };
  }

  private startSession(study: StudyRecord, round: RoundRecord): void {
    const spec = study.spec.secureAggregation;
    if (!spec) return;
    this.sessions.get(study.id)?.cancel();
    const siteIds = [...round.participants].sort();
    const n = siteIds.length;
    const threshold = Math.min(n, Math.max(2, spec.threshold ?? Math.floor((2 * n) / 3) + 1));
    const global = this.globalModel(study.id, round.modelVersionIn);
    const vectorLength = global.tensors.reduce((sum, t) => sum + t.data.length, 0);
    const sessionNo = round.attempts ?? 1;
    // The first step (advertise) waits for every site's local training: half the round. The four
    // after it are quick unless a site went silent: a tenth each, so a dropout is noticed in time.
    const roundMs = study.spec.roundTimeoutSeconds * 1000;
    const firstStepTimeoutMs = Math.max(1000, Math.floor(roundMs / 2));
    const stepTimeoutMs = Math.max(500, Math.floor(roundMs / 10));
    const session = new SecureAggregationSession(
      { studyId: study.id, round: round.round, siteIds, threshold, vectorLength, clipRange: spec.clipRange, maxWeight: study.spec.dp ? 1 : DEFAULT_MAX_WEIGHT },
      sessionNo,
      round.modelVersionIn,
      this.messenger,
      this.logger,
      stepTimeoutMs,
      (outcome) => {
        this.outcomes.set(study.id, { round: round.round, session: sessionNo, outcome });
        this.sessions.delete(study.id);
        setImmediate(() => this.closeRound(study.id, round.round, 'train'));
      },
      firstStepTimeoutMs,
    );
    this.sessions.set(study.id, session);
  }

  /** Closes a train round that ran under secure aggregation: from the session's sum, or by retrying or failing. */
  private closeSecureRound(study: StudyRecord, round: RoundRecord): void {
    const ended = this.outcomes.get(study.id);
    const outcome = ended && ended.round === round.round && ended.session === (round.attempts ?? 1) ? ended.outcome : null;
    this.sessions.get(study.id)?.cancel();
    this.sessions.delete(study.id);
    this.outcomes.delete(study.id);
    let reason: string | null = null;
    if (!outcome) reason = `secure aggregation of train round ${round.round} did not complete before its deadline`;
    else if (!outcome.ok) reason = outcome.reason;
    else if (outcome.result.survivors.length < study.spec.minSites) reason = `only ${outcome.result.survivors.length} of the ${study.spec.minSites} sites needed completed secure aggregation of round ${round.round}`;
    if (reason || !outcome || !outcome.ok) {
      if ((round.attempts ?? 1) <= (study.spec.maxRoundRetries ?? 0)) {
        this.restartSecureRound(study, round, reason ?? 'secure aggregation failed', true);
        return;
      }
      this.store.updateRound(study.id, round.round, 'train', { state: 'failed', closedAt: this.now(), failureReason: reason });
      this.emit('event', { type: 'round-failed', studyId: study.id, round: round.round, kind: 'train', reason: reason ?? '' } satisfies EngineEvent);
      this.failStudy(study.id, reason ?? 'secure aggregation failed');
      return;
    }
    const { result, masked } = outcome;
    const global = this.globalModel(study.id, round.modelVersionIn);
    // The coordinator learns Σ wᵢ·xᵢ and Σ wᵢ only; their quotient is the FedAvg mean delta.
    let at = 0;
    const meanDelta = global.tensors.map((t) => {
      const layer = new Float32Array(t.data.length);
      for (let i = 0; i < layer.length; i++) layer[i] = result.sum[at + i] / result.weightSum;
      at += layer.length;
      return layer;
    });
    const receivedAt = this.now();
    // A session that ran before a coordinator restart may have recorded its sites already.
    const recorded = new Set(this.store.listContributions(study.id, round.round, 'train').map((c) => c.nodeId));
    this.store.transaction(() => {
      for (const m of masked) {
        if (recorded.has(m.nodeId)) continue;
        this.store.addContribution({
          studyId: study.id,
          round: round.round,
          kind: 'train',
          nodeId: m.nodeId,
          receivedAt,
          frameBytes: m.frameBytes,
          frameSha256: m.frameSha256,
          numExamples: 0,
          payload: null,
          metrics: { secureAggregation: true },
        });
      }
    });
    for (const m of masked) {
      const receipt: ReceiptBody = { studyId: study.id, round: round.round, nodeId: m.nodeId, frameSha256: m.frameSha256, numExamples: 0, receivedAt };
      const sent = this.messenger.send<ReceiptBody>(m.nodeId, MessageKind.Receipt, { studyId: study.id, round: round.round, body: receipt, seal: false });
      this.audit?.append('contribution.accepted', { nodeId: m.nodeId, kind: 'secagg-up', studyId: study.id, round: round.round, bytes: m.frameBytes, sha256: m.frameSha256, numExamples: 0, receiptBytes: sent.bytes, secureAggregation: true });
    }
    this.aggregateAndSave(study, round, [{ delta: meanDelta, numExamples: 1 }], this.store.listContributions(study.id, round.round, 'train'));
  }

  private restartSecureRound(study: StudyRecord, round: RoundRecord, reason: string, countsAsRetry: boolean): void {
    const attempts = (round.attempts ?? 1) + 1;
    const deadlineAt = this.now() + study.spec.roundTimeoutSeconds * 1000;
    const restarted = this.store.updateRound(study.id, round.round, round.kind, { deadlineAt, attempts, failureReason: reason });
    this.logger.warn('round.retried', { studyId: study.id, round: round.round, attempt: attempts, reason, secureAggregation: true, countsAsRetry });
    this.emit('event', { type: 'round-retried', studyId: study.id, round: round.round, kind: round.kind, attempt: attempts, reason } satisfies EngineEvent);
    this.startSession(study, restarted);
    for (const nodeId of restarted.participants) this.sendTask(study, restarted, nodeId);
    this.armDeadline(restarted);
  }

  private failStudy(studyId: string, reason: string): void {
    this.clearTimer(studyId);
    this.store.updateStudy(studyId, { status: 'failed', failureReason: reason, updatedAt: this.now() });
    this.logger.error('study.failed', { studyId, reason });
    this.emit('event', { type: 'study-failed', studyId, reason } satisfies EngineEvent);
  }

  private setTimer(studyId: string, fn: () => void, ms: number): void {
    this.clearTimer(studyId);
    const timer = setTimeout(() => {
      this.timers.delete(studyId);
      try {
        fn();
      } catch (err) {
        // A failure inside a timer must not take the coordinator down: the study fails, visibly.
        this.logger.error('engine.error', { studyId, error: err instanceof Error ? err.message : String(err) });
        this.failStudy(studyId, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      }
    }, ms);
    timer.unref?.();
    this.timers.set(studyId, timer);
  }

  private clearTimer(studyId: string): void {
    const timer = this.timers.get(studyId);
    if (timer) clearTimeout(timer);
    this.timers.delete(studyId);
  }
}
