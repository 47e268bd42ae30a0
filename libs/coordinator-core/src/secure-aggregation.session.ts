import {
  AdvertiseKeys,
  ConsistencySignature,
  EncryptedShares,
  MaskedInput,
  SecAggError,
  SecAggParams,
  SecAggResult,
  SecAggServer,
  UnmaskingShares,
  decodeSecAggPayload,
  encodeSecAggPayload,
} from '@medfed/secagg';
import { MessageKind, OpenedMessage, SecAggDownStep, SecAggStepBody, SecAggUpStep } from '@medfed/protocol';
import { CoordinatorError } from './coordinator-errors';
import { CoordinatorLogger } from './coordinator-logger';
import { Messenger } from './messenger';

/** A masked input that counted: what the receipt and the audit entry will name. */
export interface MaskedFrame {
  nodeId: string;
  frameBytes: number;
  frameSha256: string;
}

/** How a session ends: the sum, or why there is none. */
export type SessionOutcome = { ok: true; result: SecAggResult; masked: MaskedFrame[] } | { ok: false; reason: string };

/**
 * The coordinator's side of one secure-aggregation session (one attempt of one train round): it
 * relays keys and encrypted shares between the sites, collects masked inputs, asks the survivors for
 * the shares that unmask the sum, and learns only that sum (libs/secagg, after Bonawitz et al. 2017).
 * Between the masked inputs and the unmasking it runs the consistency check of the malicious-server
 * variant: each survivor signs the survivor set with its identity key and the session forwards the
 * signatures, which every node checks before revealing anything (so a coordinator cannot tell sites
 * different survivor sets without being caught).
 * Each step closes when every expected site answered or after its timeout (`firstStepTimeoutMs` for
 * the advertise step, which waits for local training, `stepTimeoutMs` for the others); a step left with fewer
 * than t sites aborts the session and reveals nothing.
 */
export class SecureAggregationSession {
  private readonly server: SecAggServer;
  private step: SecAggUpStep = 'advertise';
  private expected: Set<string>;
  private readonly answered = new Set<string>();
  private readonly masked = new Map<string, MaskedFrame>();
  private readonly unmasking: UnmaskingShares[] = [];
  private timer: NodeJS.Timeout | null = null;
  private done = false;
  /** The last step sent down to each site in this session, to send again when the site reconnects. */
  private readonly lastDown = new Map<string, { step: SecAggDownStep; message: unknown }>();

  constructor(
    readonly params: SecAggParams,
    readonly session: number,
    private readonly modelVersion: number,
    private readonly messenger: Messenger,
    private readonly logger: CoordinatorLogger,
    private readonly stepTimeoutMs: number,
    private readonly onEnd: (outcome: SessionOutcome) => void,
    /** How long the first step (advertise) waits: it includes every site's local training. Default `stepTimeoutMs`. */
    private readonly firstStepTimeoutMs: number = stepTimeoutMs,
  ) {
    this.server = new SecAggServer({ ...params, session }, { consistencyCheck: true });
    this.expected = new Set(params.siteIds);
    this.armStepTimer();
  }

  /** One step from a site. Throws CoordinatorError for a step that does not belong here. */
  onUp(nodeId: string, msg: OpenedMessage<SecAggStepBody<SecAggUpStep>>): void {
    const body = msg.body;
    if (this.done) throw new CoordinatorError('ROUND_CLOSED', `secure aggregation of round ${this.params.round} is over`);
    if (body.session !== this.session) throw new CoordinatorError('WRONG_ROUND', `secure-aggregation session ${body.session} is not the current one (${this.session})`);
    if (body.step !== this.step) throw new CoordinatorError('WRONG_ROUND', `step ${body.step} arrived during step ${this.step}`);
    if (!this.expected.has(nodeId)) throw new CoordinatorError('NOT_A_PARTICIPANT', `node ${nodeId} is not expected in step ${this.step}`);
    if (this.answered.has(nodeId)) throw new CoordinatorError('DUPLICATE_CONTRIBUTION', `node ${nodeId} already sent step ${this.step}`);
    try {
      switch (body.step) {
        case 'advertise': {
          const m = decodeSecAggPayload<AdvertiseKeys>(body.payload);
          if (m.siteId !== nodeId) throw new SecAggError('UNKNOWN_SITE', 'a site may only advertise its own keys');
          this.server.collectAdvertise(m);
          break;
        }
        case 'shares': {
          const batch = decodeSecAggPayload<EncryptedShares[]>(body.payload);
          if (!Array.isArray(batch) || batch.some((s) => s.from !== nodeId)) throw new SecAggError('UNKNOWN_SITE', 'a site may only send its own shares');
          this.server.collectShares(batch);
          break;
        }
        case 'masked': {
          const m = decodeSecAggPayload<MaskedInput>(body.payload);
          if (m.siteId !== nodeId) throw new SecAggError('UNKNOWN_SITE', 'a site may only send its own masked input');
          this.server.collectMasked(m);
          this.masked.set(nodeId, { nodeId, frameBytes: msg.frameBytes, frameSha256: msg.frameSha256 });
          break;
        }
        case 'consistency': {
          const m = decodeSecAggPayload<ConsistencySignature>(body.payload);
          if (m.siteId !== nodeId) throw new SecAggError('UNKNOWN_SITE', 'a site may only send its own consistency signature');
          this.server.collectSignature(m);
          break;
        }
        case 'unmasking': {
          const m = decodeSecAggPayload<UnmaskingShares>(body.payload);
          if (m.siteId !== nodeId) throw new SecAggError('UNKNOWN_SITE', 'a site may only send its own unmasking shares');
          this.server.collectUnmasking(m);
          this.unmasking.push(m);
          break;
        }
      }
    } catch (err) {
      if (err instanceof SecAggError) throw new CoordinatorError('SECAGG', `${err.code}: ${err.message}`);
      throw err;
    }
    this.answered.add(nodeId);
    if ([...this.expected].every((id) => this.answered.has(id))) this.closeStep();
  }

  /**
   * A site reconnected. Returns what it needs: 'task' when the session still waits for its keys (the train
   * task, with its local training, has to reach it again), 'resent' when the session sent it again the
   * step it has not answered (its answer, or this step, was lost with the connection), 'none' when the
   * session has nothing for it (it answered, or it is no longer in the session).
   */
  onReconnect(nodeId: string): 'task' | 'resent' | 'none' {
    if (this.done || !this.expected.has(nodeId) || this.answered.has(nodeId)) return 'none';
    if (this.step === 'advertise') return 'task';
    const last = this.lastDown.get(nodeId);
    if (!last) return 'none';
    this.logger.info('secagg.step-resent', { studyId: this.params.studyId, round: this.params.round, step: last.step, nodeId });
    this.down(nodeId, last.step, last.message);
    return 'resent';
  }

  /** Stops the session's timer; no outcome is reported. */
  cancel(): void {
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private closeStep(): void {
    if (this.done) return;
    if (this.timer) clearTimeout(this.timer);
    const arrived = [...this.answered];
    this.logger.info('secagg.step-closed', { studyId: this.params.studyId, round: this.params.round, step: this.step, sites: arrived.length, of: this.expected.size });
    try {
      switch (this.step) {
        case 'advertise': {
          const keys = this.server.advertisedKeys();
          this.next('shares', arrived);
          for (const id of arrived) this.down(id, 'keys', keys);
          break;
        }
        case 'shares': {
          const routed = this.server.routeShares();
          this.next('masked', arrived);
          for (const id of arrived) this.down(id, 'routed-shares', routed.get(id) ?? []);
          break;
        }
        case 'masked': {
          const request = this.server.unmaskRequest();
          this.next('consistency', request.survivors);
          for (const id of request.survivors) this.down(id, 'unmask-request', request);
          break;
        }
        case 'consistency': {
          const signatures = this.server.forwardSignatures();
          const signers = signatures.map((signature) => signature.siteId);
          this.next('unmasking', signers);
          for (const id of signers) this.down(id, 'signatures', signatures);
          break;
        }
        case 'unmasking': {
          const result = this.server.finish();
          this.done = true;
          const masked = result.survivors.map((id) => this.masked.get(id)).filter((m): m is MaskedFrame => m !== undefined);
          this.onEnd({ ok: true, result, masked });
          return;
        }
      }
    } catch (err) {
      this.done = true;
      const reason = err instanceof SecAggError ? `secure aggregation aborted: ${err.code}: ${err.message}` : `secure aggregation failed: ${err instanceof Error ? err.message : String(err)}`;
      this.onEnd({ ok: false, reason });
      return;
    }
    this.armStepTimer();
  }

  private next(step: SecAggUpStep, expected: Iterable<string>): void {
    this.step = step;
    this.expected = new Set(expected);
    this.answered.clear();
  }

  private down(nodeId: string, step: SecAggDownStep, message: unknown): void {
    this.lastDown.set(nodeId, { step, message });
    this.messenger.send<SecAggStepBody<SecAggDownStep>>(nodeId, MessageKind.SecAggDown, {
      studyId: this.params.studyId,
      round: this.params.round,
      body: { studyId: this.params.studyId, round: this.params.round, modelVersion: this.modelVersion, session: this.session, step, payload: encodeSecAggPayload(message) },
      seal: true,
    });
  }

  private armStepTimer(): void {
    const timer = setTimeout(() => this.closeStep(), this.step === 'advertise' ? this.firstStepTimeoutMs : this.stepTimeoutMs);
    timer.unref?.();
    this.timer = timer;
  }
}
