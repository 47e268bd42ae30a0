import { mkdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { io, Socket } from 'socket.io-client';
import {
  EnvelopeCodec,
  EvaluateResultBody,
  EvaluateTaskBody,
  Events,
  HelloBody,
  MessageKind,
  OpenedMessage,
  PROTOCOL_VERSION,
  ProtocolError,
  ReceiptBody,
  RejectedBody,
  StatisticsResultBody,
  StatisticsTaskBody,
  TaskDeclinedBody,
  TrainResultBody,
  TrainTaskBody,
  WelcomeBody,
  eventForKind,
  mustBeSealed,
  peekHeader,
} from '@medfed/protocol';
import { Identity, fromBase64, keyFingerprint, sha256Hex, toBase64, ED25519_PUBLIC_KEY_BYTES, X25519_KEY_BYTES } from '@medfed/crypto';
import { Logger } from '@medfed/observability';
import { AuditSink, AuditValue } from '@medfed/audit';
import { checkTask } from './local-policy';
import { LocalTrainer, SchemaMismatchError } from './local-trainer';
import { NodeConfig } from './node-config';
import { ScaffoldControlStore } from './scaffold-controls.store';
import { ManifestApprovals } from './manifest-approvals.store';
import { checkManifest } from './manifest-check';
import { DpSettings, PrivacyAccountant, PrivacyBudgetLedger, addGaussianNoise, clipUpdate } from '@medfed/privacy';
import { SecAggDownStep, SecAggStepBody, SecAggUpStep, StudyManifest, totalRounds } from '@medfed/protocol';
import { SecureAggregationParticipant } from './secure-aggregation.participant';

/** The software version a node reports in its Hello. */
export const NODE_SOFTWARE_VERSION = '0.1.0';

/** Bytes and frames this node has sent, by message kind: what left the hospital. */
export interface SentStats {
  frames: number;
  bytes: number;
  byKind: Record<string, { frames: number; bytes: number }>;
}

type Status = 'connecting' | 'authenticating' | 'ready' | 'closed';

/**
 * The hospital node's connection to its coordinator. It proves its identity with a signed Hello,
 * accepts only messages signed by the pinned coordinator key, runs each task through the local
 * policy before touching data, and sends back only a sealed weight delta or sealed counts.
 * Reconnection with exponential backoff is Socket.IO's; a task is re-sent by the coordinator
 * after a reconnect if it is still owed.
 */
export class NodeClient {
  private socket: Socket | null = null;
  private status: Status = 'connecting';
  private helloNonce: string | null = null;
  private coordinatorEncryptionKey: Uint8Array | null = null;
  private nodeId: string | null = null;
  private readonly coordinatorKey: Uint8Array;
  private readonly codec: EnvelopeCodec;
  private queue: Promise<void> = Promise.resolve();
  private readonly sentFrames = new Map<string, { kind: string; studyId: string | null; round: number | null; bytes: number }>();
  private readonly controls: ScaffoldControlStore;
  readonly approvals: ManifestApprovals;
  readonly ledger: PrivacyBudgetLedger;
  private readonly secagg: SecureAggregationParticipant;
  /** Approval decisions already written to the audit log (`sha@at`), so each is recorded once. */
  private readonly auditedDecisions = new Set<string>();
  /** SCAFFOLD c_i waiting for the receipt of the update that carried its delta, by frame hash. */
  private readonly pendingControls = new Map<string, { studyId: string; control: { shape: number[]; data: Float32Array }[] }>();
  readonly stats: SentStats = { frames: 0, bytes: 0, byKind: {} };
  /** Fault-injection tests set MEDFED_FAULT_NODE_DELAY_MS to make this node a straggler; 0 otherwise. */
  private readonly answerDelayMs = Number(process.env['MEDFED_FAULT_NODE_DELAY_MS'] ?? 0) || 0;

  constructor(
    private readonly config: NodeConfig,
    private readonly identity: Identity,
    private readonly trainer: LocalTrainer,
    private readonly logger: Logger,
    private readonly backendName: string,
    private readonly audit: AuditSink,
    private readonly now: () => number = Date.now,
  ) {
    this.coordinatorKey = fromBase64(config.coordinatorSigningPublicKey, ED25519_PUBLIC_KEY_BYTES);
    this.codec = new EnvelopeCodec({ identity, maxFrameBytes: config.maxFrameBytes, now });
    mkdirSync(config.stateDir, { recursive: true });
    this.controls = new ScaffoldControlStore(config.stateDir);
    this.approvals = new ManifestApprovals(config.stateDir);
    this.ledger = PrivacyBudgetLedger.open(join(config.stateDir, 'privacy-ledger.json'), config.policy.privacy);
    const dropAfter = process.env['MEDFED_FAULT_SECAGG_DROP_AFTER'];
    this.secagg = new SecureAggregationParticipant(
      (task, step, payload) =>
        this.send<SecAggStepBody<SecAggUpStep>>(MessageKind.SecAggUp, task.studyId, task.round, {
          studyId: task.studyId,
          round: task.round,
          modelVersion: task.modelVersion,
          session: task.secagg?.session ?? 1,
          step,
          payload,
        }) !== null,
      logger,
      () => this.nodeId,
      dropAfter === 'advertise' || dropAfter === 'shares' || dropAfter === 'masked' ? dropAfter : null,
      now,
      {
        // The identity key signs the survivor set: the consistency check against a lying coordinator.
        signing: identity.signing,
        onAbort: (a) => this.record('input.rejected', { event: Events.SecAggDown, code: `SECAGG_${a.code}`, studyId: a.studyId, round: a.round, session: a.session, reason: a.reason }),
      },
    );
  }

  /** Connects and keeps connecting; resolves once the first Welcome was accepted. */
  start(): Promise<void> {
    return new Promise((resolveReady) => {
      const socket = io(this.config.coordinatorUrl, {
        transports: ['websocket'],
        reconnection: true,
        reconnectionDelay: this.config.reconnect.minDelayMs,
        reconnectionDelayMax: this.config.reconnect.maxDelayMs,
        randomizationFactor: 0.5,
      });
      this.socket = socket;
      socket.on('connect', () => {
        this.status = 'authenticating';
        this.logger.info('coordinator.connected', { url: this.config.coordinatorUrl });
        this.sayHello();
      });
      socket.on('disconnect', (reason) => {
        if (this.status === 'closed') return;
        this.status = 'connecting';
        this.logger.warn('coordinator.disconnected', { reason });
        // Socket.IO reconnects by itself after a lost transport, but not when the server closed the
        // socket (a coordinator shutting down or restarting): then we come back ourselves, backing off.
        if (reason === 'io server disconnect') this.reconnectLater();
      });
      socket.on('connect_error', (err) => this.logger.warn('coordinator.unreachable', { error: err.message }));
      socket.on(Events.Welcome, (frame: unknown) =>
        this.guard(Events.Welcome, () => {
          this.onWelcome(frame);
          resolveReady();
        }),
      );
      socket.on(Events.TrainTask, (frame: unknown) => this.enqueue(Events.TrainTask, () => this.onTrainTask(frame)));
      socket.on(Events.EvaluateTask, (frame: unknown) => this.enqueue(Events.EvaluateTask, () => this.onEvaluateTask(frame)));
      socket.on(Events.StatisticsTask, (frame: unknown) => this.enqueue(Events.StatisticsTask, () => this.onStatisticsTask(frame)));
      socket.on(Events.Receipt, (frame: unknown) => this.guard(Events.Receipt, () => this.onReceipt(frame)));
      socket.on(Events.SecAggDown, (frame: unknown) => this.enqueue(Events.SecAggDown, () => this.onSecAggDown(frame)));
      socket.on(Events.Rejected, (frame: unknown) => this.guard(Events.Rejected, () => this.onRejected(frame)));
      socket.on(Events.ConnectionError, (payload: unknown) => this.onConnectionError(payload));
    });
  }

  private manualReconnects = 0;

  private reconnectLater(): void {
    const { minDelayMs, maxDelayMs } = this.config.reconnect;
    const delay = Math.min(maxDelayMs, minDelayMs * 2 ** this.manualReconnects) * (0.75 + Math.random() * 0.5);
    this.manualReconnects += 1;
    setTimeout(() => {
      if (this.status !== 'closed' && this.socket && !this.socket.connected) this.socket.connect();
    }, delay).unref();
  }

  /** Disconnects for good. */
  async close(): Promise<void> {
    this.status = 'closed';
    await this.queue;
    this.socket?.disconnect();
    this.logger.info('node.stopped', { framesSent: this.stats.frames, bytesSent: this.stats.bytes });
    this.record('node.stopped', { framesSent: this.stats.frames, bytesSent: this.stats.bytes });
  }

  get ready(): boolean {
    return this.status === 'ready';
  }

  // ---- inbound ---------------------------------------------------------------------------------

  private onWelcome(frame: unknown): void {
    const msg = this.open<WelcomeBody>(frame, MessageKind.Welcome);
    if (msg.body.helloNonce !== this.helloNonce) {
      throw new ProtocolError('REPLAYED', 'the Welcome does not answer our latest Hello');
    }
    this.coordinatorEncryptionKey = fromBase64(msg.body.coordinatorEncryptionPublicKey, X25519_KEY_BYTES);
    this.nodeId = msg.body.nodeId;
    this.status = 'ready';
    this.manualReconnects = 0;
    this.logger.info('node.ready', { nodeId: this.nodeId, coordinatorMaxFrameBytes: msg.body.maxFrameBytes, backend: this.backendName });
  }

  private async onTrainTask(frame: unknown): Promise<void> {
    const msg = this.open<TrainTaskBody>(frame, MessageKind.TrainTask);
    const task = msg.body;
    const where = { studyId: task.studyId, round: task.round, modelVersion: task.modelVersion };
    if (!this.approved(task)) return;
    const decision = checkTask(this.config.policy, task, this.now());
    if (!decision.allowed) {
      this.logger.warn('task.declined', { ...where, reason: decision.reason, detail: decision.detail });
      this.decline(task.studyId, task.round, decision.reason ?? 'not-approved');
      return;
    }
    if (task.secagg && this.secagg.repeatTask(task)) {
      // Sent again after a reconnect while this node is already in the round's session: neither training
      // nor the session starts over (the participant sent its keys again if those were lost).
      this.logger.info('task.repeated', { ...where, session: task.secagg.session });
      return;
    }
    if (this.trainer.trainSize < this.config.policy.minCohortSize) {
      this.logger.warn('task.declined', { ...where, reason: 'dataset-unavailable', detail: 'fewer training patients than the minimum cohort' });
      this.decline(task.studyId, task.round, 'dataset-unavailable');
      return;
    }
    const dpSettings = this.dpSettings(task.manifest);
    if (dpSettings) {
      const verdict = this.ledger.check(task.studyId, dpSettings);
      if (!verdict.allowed) {
        this.logger.warn('task.declined', { ...where, reason: 'budget-exhausted', detail: verdict.reason });
        this.decline(task.studyId, task.round, 'budget-exhausted');
        return;
      }
    }
    this.logger.info('task.training', { ...where, localSteps: task.training.localSteps });
    this.record('round.joined', { ...where, kind: 'train', strategy: task.strategy ?? 'fedavg', received: msg.frameSha256 });
    let result;
    try {
      result = await this.trainer.train(task, msg.tensors, task.strategy === 'scaffold' ? this.controls.load(task.studyId) : null);
    } catch (err) {
      this.failTask(task.studyId, task.round, err);
      return;
    }
    if (dpSettings && task.manifest.spec.dp) {
      // Client-level DP: clip the whole update to C; with split placement add this site's share of the noise.
      const { clipped, norm } = clipUpdate(result.delta.map((t) => t.data), dpSettings.clipNorm);
      if (task.manifest.spec.dp.placement === 'split') {
        addGaussianNoise(clipped, (dpSettings.noiseMultiplier * dpSettings.clipNorm) / Math.sqrt(task.participants ?? 1));
      }
      result.delta = clipped.map((data, i) => ({ shape: result.delta[i].shape, data }));
      // Charged before anything leaves: a crash after this costs budget but never leaks an uncharged release.
      const spent = this.ledger.record(task.studyId, task.round, dpSettings);
      this.record('privacy.spent', {
        studyId: task.studyId,
        round: task.round,
        epsilonAfter: spent.epsilonAfter,
        epsilonTotal: spent.totalAfter,
        delta: dpSettings.delta,
        epsilonLimit: this.config.policy.privacy.maxEpsilonPerStudy,
        noiseMultiplier: dpSettings.noiseMultiplier,
        clipNorm: dpSettings.clipNorm,
        clipped: norm > dpSettings.clipNorm,
      });
    }
    const trained = result;
    const answer = (): void => {
      if (this.now() > task.deadlineAt) {
        // An update computed past its deadline belongs to a round that has moved on: never send it.
        this.logger.warn('task.late', { ...where, durationMs: Math.round(trained.durationMs) });
        return;
      }
      if (task.secagg) {
        // Under secure aggregation the update leaves only masked, as one term of a sum.
        this.secagg.begin(task, trained.delta, task.manifest.spec.dp ? 1 : trained.numExamples);
        this.logger.info('task.trained', { ...where, numExamples: trained.numExamples, secureAggregation: true, durationMs: Math.round(trained.durationMs) });
        return;
      }
      const sha = this.send<TrainResultBody>(MessageKind.TrainResult, task.studyId, task.round, {
        studyId: task.studyId,
        round: task.round,
        modelVersion: task.modelVersion,
        numExamples: trained.numExamples,
        meanLoss: trained.meanLoss,
        durationMs: Math.round(trained.durationMs),
        backend: this.backendName,
      }, trained.delta);
      if (sha && trained.nextControl) this.pendingControls.set(sha, { studyId: task.studyId, control: trained.nextControl });
      this.logger.info('task.trained', { ...where, numExamples: trained.numExamples, meanLoss: Number(trained.meanLoss.toFixed(4)), durationMs: Math.round(trained.durationMs) });
    };
    if (this.answerDelayMs > 0) {
      // Fault injection only (a slow site): the answer leaves late; the deadline check then runs at send time.
      setTimeout(() => this.guard(Events.TrainTask, answer), this.answerDelayMs);
    } else {
      answer();
    }
  }

  private async onEvaluateTask(frame: unknown): Promise<void> {
    const msg = this.open<EvaluateTaskBody>(frame, MessageKind.EvaluateTask);
    const task = msg.body;
    if (!this.approved(task)) return;
    const decision = checkTask(this.config.policy, task, this.now());
    if (!decision.allowed) {
      this.logger.warn('task.declined', { studyId: task.studyId, round: task.round, reason: decision.reason, detail: decision.detail });
      this.decline(task.studyId, task.round, decision.reason ?? 'not-approved');
      return;
    }
    let body: EvaluateResultBody;
    try {
      body = await this.trainer.evaluate(task, msg.tensors, this.config.policy.minCohortSize);
    } catch (err) {
      this.failTask(task.studyId, task.round, err);
      return;
    }
    this.record('model.evaluated', { studyId: task.studyId, round: task.round, modelVersion: task.modelVersion, numExamples: body.numExamples, suppressed: body.suppressed });
    this.send<EvaluateResultBody>(MessageKind.EvaluateResult, task.studyId, task.round, body);
    this.logger.info('task.evaluated', {
      studyId: task.studyId,
      round: task.round,
      modelVersion: task.modelVersion,
      suppressed: body.suppressed,
      numExamples: body.numExamples,
      accuracy: body.suppressed || !body.numExamples || body.numCorrect === undefined ? null : Number((body.numCorrect / body.numExamples).toFixed(4)),
    });
  }

  /** Federated statistics: only per-feature counts, sums and sums of squares of the training split leave, and only above the minimum cohort. */
  private onStatisticsTask(frame: unknown): void {
    const msg = this.open<StatisticsTaskBody>(frame, MessageKind.StatisticsTask);
    const task = msg.body;
    const where = { studyId: task.studyId, round: task.round };
    if (!this.approved(task)) return;
    if (!this.config.policy.allowedDatasets.includes(task.dataset)) {
      this.logger.warn('task.declined', { ...where, reason: 'dataset-unavailable', detail: `${task.dataset} is not in policy.allowedDatasets` });
      this.decline(task.studyId, task.round, 'dataset-unavailable');
      return;
    }
    let body: StatisticsResultBody;
    try {
      const scope = { studyId: task.studyId, round: task.round, modelVersion: task.modelVersion };
      if (this.trainer.trainSize < this.config.policy.minCohortSize) {
        body = { ...scope, suppressed: true, numExamples: this.trainer.trainSize };
      } else {
        const sums = this.trainer.featureSums(task.dataset);
        body = { ...scope, suppressed: false, numExamples: this.trainer.trainSize, count: sums.count, sum: sums.sum, sumSquares: sums.sumSquares };
      }
    } catch (err) {
      this.failTask(task.studyId, task.round, err);
      return;
    }
    this.record('statistics.sent', { ...where, numExamples: body.numExamples, suppressed: body.suppressed, featureCount: body.count?.length ?? 0 });
    this.send<StatisticsResultBody>(MessageKind.StatisticsResult, task.studyId, task.round, body);
    this.logger.info('task.statistics', { ...where, suppressed: body.suppressed, numExamples: body.numExamples });
  }

  private onSecAggDown(frame: unknown): void {
    const msg = this.open<SecAggStepBody<SecAggDownStep>>(frame, MessageKind.SecAggDown);
    this.secagg.onDown(msg.body);
  }

  private onReceipt(frame: unknown): void {
    const msg = this.open<ReceiptBody>(frame, MessageKind.Receipt);
    const sent = this.sentFrames.get(msg.body.frameSha256);
    const matches = sent !== undefined && sent.studyId === msg.body.studyId && sent.round === msg.body.round;
    // The whole signed receipt is kept, so anyone holding the coordinator's public key can check it later.
    const receiptFrame = Buffer.from(frame as Uint8Array).toString('base64');
    const entry = { at: this.now(), ...msg.body, matchesSentFrame: matches, receiptFrameSha256: msg.frameSha256, receiptFrame };
    appendFileSync(join(this.config.stateDir, 'receipts.jsonl'), JSON.stringify(entry) + '\n');
    this.record('receipt.stored', {
      studyId: msg.body.studyId,
      round: msg.body.round,
      frameSha256: msg.body.frameSha256,
      numExamples: msg.body.numExamples,
      receiptSha256: msg.frameSha256,
      matchesSentFrame: matches,
    });
    const pending = this.pendingControls.get(msg.body.frameSha256);
    if (matches && pending) {
      this.controls.save(pending.studyId, pending.control);
      this.pendingControls.delete(msg.body.frameSha256);
    }
    if (!matches) this.logger.error('receipt.mismatch', { studyId: msg.body.studyId, round: msg.body.round, frameSha256: msg.body.frameSha256 });
    else this.logger.info('receipt.received', { studyId: msg.body.studyId, round: msg.body.round, frameSha256: msg.body.frameSha256 });
  }

  private onRejected(frame: unknown): void {
    const msg = this.open<RejectedBody>(frame, MessageKind.Rejected);
    this.logger.warn('message.refused-by-coordinator', { code: msg.body.code, message: msg.body.message });
  }

  private onConnectionError(payload: unknown): void {
    // Unsigned by design (see Events.ConnectionError): logged as a hint, never acted on.
    let text = '';
    if (Buffer.isBuffer(payload) || payload instanceof Uint8Array) text = Buffer.from(payload).toString('utf8', 0, Math.min(payload.length, 600));
    this.logger.warn('coordinator.connection-error', { unverified: text });
  }

  // ---- outbound --------------------------------------------------------------------------------

  private sayHello(): void {
    const body: HelloBody = {
      nodeName: this.config.name,
      encryptionPublicKey: toBase64(this.identity.encryption.publicKey),
      softwareVersion: NODE_SOFTWARE_VERSION,
      backend: this.backendName,
      protocolVersion: PROTOCOL_VERSION,
      ...(this.config.enrolmentToken ? { enrolmentToken: this.config.enrolmentToken } : {}),
    };
    const frame = this.codec.encode<HelloBody>({ kind: MessageKind.Hello, recipient: { signingPublicKey: this.coordinatorKey }, body, seal: false });
    this.helloNonce = peekHeader(frame).nonce;
    this.emit(MessageKind.Hello, null, null, frame);
  }

  private decline(studyId: string, round: number, reason: TaskDeclinedBody['reason']): void {
    this.record('task.refused', { studyId, round, reason });
    this.send<TaskDeclinedBody>(MessageKind.TaskDeclined, studyId, round, { studyId, round, reason });
  }

  private failTask(studyId: string, round: number, err: unknown): void {
    const schema = err instanceof SchemaMismatchError;
    this.logger.error('task.failed', { studyId, round, error: err instanceof Error ? err.message : String(err) });
    this.decline(studyId, round, schema ? 'schema-mismatch' : 'internal-error');
  }

  /** Encodes, signs (and seals results) and emits; returns the frame's SHA-256, or null if not sent. */
  private send<B>(kind: MessageKind, studyId: string, round: number, body: B, tensors?: { shape: number[]; data: Float32Array }[]): string | null {
    const sealed = mustBeSealed(kind);
    if (sealed && !this.coordinatorEncryptionKey) throw new ProtocolError('MALFORMED', 'no coordinator encryption key yet: Welcome not received');
    let frame: Buffer;
    try {
      frame = this.codec.encode<B>({
        kind,
        recipient: { signingPublicKey: this.coordinatorKey, encryptionPublicKey: this.coordinatorEncryptionKey ?? undefined },
        studyId,
        round,
        body,
        tensors,
        seal: sealed,
      });
    } catch (err) {
      // Our own result failed the protocol's checks: tell the coordinator at once instead of letting it wait out the deadline.
      if (kind === MessageKind.TaskDeclined) throw err;
      this.failTask(studyId, round, err);
      return null;
    }
    return this.emit(kind, studyId, round, frame);
  }

  private emit(kind: MessageKind, studyId: string | null, round: number | null, frame: Buffer): string | null {
    if (!this.socket) return null;
    if (frame.length > this.config.maxFrameBytes) {
      this.logger.error('frame.too-large', { kind, bytes: frame.length, limit: this.config.maxFrameBytes });
      return null;
    }
    if (!this.socket.connected) {
      // Socket.IO would buffer it and send it after reconnecting, before our new Hello: the
      // coordinator re-sends any task still owed instead, so drop it here, visibly.
      this.logger.warn('frame.dropped-offline', { kind, studyId, round, bytes: frame.length });
      return null;
    }
    const sha = sha256Hex(frame);
    // What leaves the hospital is recorded before it leaves; if it cannot be recorded, it does not leave.
    const recipient = keyFingerprint(this.coordinatorKey);
    if (!this.record('message.sent', { kind, studyId, round, bytes: frame.length, sha256: sha, recipient })) {
      this.logger.error('frame.withheld', { kind, studyId, round, reason: 'the audit log could not be written' });
      return null;
    }
    this.socket.emit(eventForKind(kind), frame);
    this.sentFrames.set(sha, { kind, studyId, round, bytes: frame.length });
    this.stats.frames += 1;
    this.stats.bytes += frame.length;
    const k = (this.stats.byKind[kind] ??= { frames: 0, bytes: 0 });
    k.frames += 1;
    k.bytes += frame.length;
    this.logger.info('frame.sent', { kind, studyId, round, bytes: frame.length, sha256: sha });
    return sha;
  }

  // ---- approvals -------------------------------------------------------------------------------

  /** Marks decisions already in the audit log (from an earlier run) as recorded. */
  markDecisionsAudited(keys: Iterable<string>): void {
    for (const k of keys) this.auditedDecisions.add(k);
  }

  /** Writes operators' approvals and revocations made since the last task into the audit log. */
  private auditNewDecisions(): void {
    for (const d of this.approvals.decisions()) {
      const key = `${d.manifestSha256}@${d.at}`;
      if (this.auditedDecisions.has(key)) continue;
      if (this.record(d.decision === 'approved' ? 'manifest.approved' : 'manifest.revoked', { studyId: d.studyId, manifestSha256: d.manifestSha256, by: d.by, at: d.at })) {
        this.auditedDecisions.add(key);
      }
    }
  }

  /** The approval gate: true if the task may touch data; otherwise it is declined and recorded. */
  /** The DP settings a manifest promises, as this node accounts them (q = 1: it does not rely on sampling it cannot see). */
  dpSettings(manifest: StudyManifest): DpSettings | null {
    const dp = manifest.spec.dp;
    if (!dp) return null;
    return { noiseMultiplier: dp.noiseMultiplier, clipNorm: dp.clipNorm, samplingRate: 1, delta: this.config.policy.privacy.delta, rounds: totalRounds(manifest.spec), noisePlacement: dp.placement };
  }

  private approved(task: TrainTaskBody | EvaluateTaskBody | StatisticsTaskBody): boolean {
    this.auditNewDecisions();
    const settings = this.dpSettings(task.manifest);
    if (settings) {
      // The manifest's promised total must fit this hospital's limit before anything runs.
      const promised = new PrivacyAccountant(settings).totalEpsilon();
      if (!(promised <= this.config.policy.privacy.maxEpsilonPerStudy)) {
        const detail = `the manifest promises ε=${promised.toFixed(3)} over ${settings.rounds} rounds; this node's limit per study is ${this.config.policy.privacy.maxEpsilonPerStudy}`;
        this.logger.warn('task.declined', { studyId: task.studyId, round: task.round, reason: 'budget-exhausted', detail });
        this.record('manifest.declined', { studyId: task.studyId, reason: detail });
        this.decline(task.studyId, task.round, 'budget-exhausted');
        return false;
      }
    }
    const decision = checkManifest(task, (sha) => this.approvals.isApproved(sha), this.config.policy.autoApprove);
    if (decision.allowed && decision.approvedByPolicy) {
      this.approvals.approve(task.manifest, 'policy');
      this.auditNewDecisions();
    }
    if (decision.allowed) return true;
    this.approvals.rememberPending(task.manifest);
    this.logger.warn('task.declined', { studyId: task.studyId, round: task.round, reason: 'not-approved', detail: decision.detail });
    this.record('manifest.declined', { studyId: task.studyId, manifestSha256: decision.manifestSha256, reason: decision.detail });
    this.decline(task.studyId, task.round, 'not-approved');
    return false;
  }

  // ---- plumbing --------------------------------------------------------------------------------

  /** Writes an audit entry; false (and an error in the log) if it could not be written. */
  private record(event: Parameters<AuditSink['append']>[0], details: Record<string, AuditValue>): boolean {
    try {
      this.audit.append(event, details);
      return true;
    } catch (err) {
      this.logger.error('audit.write-failed', { event, error: err instanceof Error ? err.message : String(err) });
      return false;
    }
  }

  private open<B>(frame: unknown, kind: MessageKind): OpenedMessage<B> {
    const key = toBase64(this.coordinatorKey);
    return this.codec.decode<B>(frame, { isKnownSender: (sender) => sender === key, expectKinds: [kind] });
  }

  /** Tasks run one at a time, in arrival order. */
  /** Runs tasks one at a time, in arrival order; a long training yields to the event loop between batches. */
  private enqueue(event: string, fn: () => void | Promise<void>): void {
    this.queue = this.queue.then(() => new Promise<void>((done) => setImmediate(() => void this.guardAsync(event, fn).then(done))));
  }

  private async guardAsync(event: string, fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.reportFailure(event, err);
    }
  }

  /** Nothing a coordinator (or an impostor) sends can crash the node: refusals are logged. */
  private guard(event: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.reportFailure(event, err);
    }
  }

  private reportFailure(event: string, err: unknown): void {
    {
      if (err instanceof ProtocolError) {
        this.logger.warn('message.rejected', { event, code: err.code, message: err.message });
        this.record('input.rejected', { event, code: err.code });
      } else {
        this.logger.error('message.failed', { event, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}
