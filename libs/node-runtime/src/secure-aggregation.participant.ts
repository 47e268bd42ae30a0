import {
  AdvertiseKeys,
  ConsistencySignature,
  EncryptedShares,
  SecAggClient,
  SecAggError,
  UnmaskRequest,
  UnmaskingShares,
  decodeSecAggPayload,
  encodeSecAggPayload,
} from '@medfed/secagg';
import { SecAggDownStep, SecAggStepBody, SecAggUpStep, TrainTaskBody, WeightTensor } from '@medfed/protocol';
import { Logger } from '@medfed/observability';
import type { SigningKeyPair } from '@medfed/crypto';

interface Session {
  client: SecAggClient;
  task: TrainTaskBody;
  vector: Float32Array;
  weight: number;
  stopped: boolean;
}

/** Why a node refused to unmask: the consistency check failed (see {@link SecureAggregationParticipant}). */
export interface SecAggAbort {
  studyId: string;
  round: number;
  session: number;
  /** The SecAggError code: INCONSISTENT, BAD_SIGNATURE, BELOW_THRESHOLD, WRONG_ROUND, … */
  code: string;
  /** Ids and counts only, never values. */
  reason: string;
}

/** Options of a {@link SecureAggregationParticipant}. */
export interface ParticipantOptions {
  /**
   * The node's Ed25519 identity key: with it the node runs the consistency check of the
   * malicious-server variant and reveals no share before it has seen at least t valid signatures of
   * the survivor set it was told. Without it (tests of the semi-honest protocol only) it unmasks at once.
   */
  signing?: SigningKeyPair;
  /** Called when the node aborts a session at the consistency check (e.g. to write it to the audit log). */
  onAbort?: (abort: SecAggAbort) => void;
}

/** Sends one step up; returns false when it could not be sent (offline, or the audit log refused it). */
export type SendStep = (task: TrainTaskBody, step: SecAggUpStep, payload: string) => boolean;

/**
 * This hospital's part in secure aggregation (Bonawitz et al. 2017): after training, the node does not
 * send its update but takes part in a session whose outcome is only the sum of all sites' updates. It
 * advertises fresh keys, sends Shamir shares of its secrets encrypted to each other site, sends its
 * update masked, and helps unmask the sum (revealing the masks of sites that dropped out, never its own
 * update). Sessions live in memory: a restarted node simply drops out of the session it was in.
 *
 * With the node's identity key it defends against a lying coordinator (Bonawitz et al. 2017,
 * ConsistencyCheck): it signs the survivor set it was told, and reveals shares only when the
 * coordinator forwards at least t valid signatures of that same set; otherwise it aborts the session,
 * reveals nothing and records why ({@link aborts}, `onAbort`).
 */
export class SecureAggregationParticipant {
  private readonly sessions = new Map<string, Session>();
  /** Every session this node aborted at the consistency check, oldest first. */
  readonly aborts: SecAggAbort[] = [];

  constructor(
    private readonly send: SendStep,
    private readonly logger: Logger,
    private readonly siteId: () => string | null,
    /** Fault injection only: stop answering after this step (a site dropping out). */
    private readonly dropAfter: SecAggUpStep | null = null,
    private readonly now: () => number = Date.now,
    private readonly options: ParticipantOptions = {},
  ) {}

  /** Starts this node's part for a trained update: advertises its keys. */
  begin(task: TrainTaskBody, delta: readonly WeightTensor[], weight: number): void {
    const params = task.secagg;
    const siteId = this.siteId();
    if (!params || !siteId) throw new SecAggError('BAD_STATE', 'no secure-aggregation parameters or no node id yet');
    const length = delta.reduce((n, t) => n + t.data.length, 0);
    const vector = new Float32Array(length);
    let at = 0;
    for (const t of delta) {
      vector.set(t.data, at);
      at += t.data.length;
    }
    const client = new SecAggClient(
      {
        studyId: task.studyId,
        round: task.round,
        session: params.session,
        siteIds: params.siteIds,
        threshold: params.threshold,
        vectorLength: length,
        clipRange: params.clipRange,
        maxWeight: params.maxWeight,
      },
      siteId,
      undefined,
      this.options.signing ? { signing: this.options.signing } : undefined,
    );
    const session: Session = { client, task, vector, weight, stopped: false };
    this.sessions.set(key(task.studyId, task.round, params.session), session);
    this.up(session, 'advertise', client.advertiseKeys());
  }

  /** One step from the coordinator. */
  onDown(body: SecAggStepBody<SecAggDownStep>): void {
    const session = this.sessions.get(key(body.studyId, body.round, body.session));
    if (!session) throw new SecAggError('WRONG_ROUND', `no secure-aggregation session ${body.session} for round ${body.round} of study ${body.studyId}`);
    if (session.stopped) return;
    if (this.now() > session.task.deadlineAt) {
      // The round has moved on: never send anything computed for it.
      this.logger.warn('secagg.late', { studyId: body.studyId, round: body.round, step: body.step });
      this.sessions.delete(key(body.studyId, body.round, body.session));
      return;
    }
    switch (body.step) {
      case 'keys':
        this.up(session, 'shares', session.client.shareKeys(decodeSecAggPayload<AdvertiseKeys[]>(body.payload)));
        break;
      case 'routed-shares':
        this.up(session, 'masked', session.client.maskedInput(session.vector, session.weight, decodeSecAggPayload<EncryptedShares[]>(body.payload)));
        break;
      case 'unmask-request': {
        const request = decodeSecAggPayload<UnmaskRequest>(body.payload);
        if (this.options.signing) {
          this.up(session, 'consistency', session.client.signSurvivors(request));
          break;
        }
        this.up(session, 'unmasking', session.client.unmask(request.survivors, request.dropped));
        this.sessions.delete(key(body.studyId, body.round, body.session));
        break;
      }
      case 'signatures': {
        this.sessions.delete(key(body.studyId, body.round, body.session));
        let shares: UnmaskingShares;
        try {
          shares = session.client.unmaskConsistent(decodeSecAggPayload<ConsistencySignature[]>(body.payload));
        } catch (err) {
          if (!(err instanceof SecAggError)) throw err;
          this.abort({ studyId: body.studyId, round: body.round, session: body.session, code: err.code, reason: err.message });
          return;
        }
        this.up(session, 'unmasking', shares);
        break;
      }
    }
  }

  private abort(abort: SecAggAbort): void {
    this.aborts.push(abort);
    this.logger.warn('secagg.aborted', { ...abort });
    this.options.onAbort?.(abort);
  }

  private up(session: Session, step: SecAggUpStep, message: unknown): void {
    if (!this.send(session.task, step, encodeSecAggPayload(message))) {
      session.stopped = true;
      return;
    }
    this.logger.info('secagg.step-sent', { studyId: session.task.studyId, round: session.task.round, step });
    if (this.dropAfter === step) {
      session.stopped = true;
      this.logger.warn('secagg.dropping-out', { studyId: session.task.studyId, round: session.task.round, after: step });
    }
  }
}

function key(studyId: string, round: number, session: number): string {
  return `${studyId}/${round}/${session}`;
}
