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
  /** Dropped out on purpose (fault injection): answers nothing more. */
  stopped: boolean;
  /** The last step from the coordinator this node answered, and its answer (kept to answer that step again). */
  lastDown: SecAggDownStep | null;
  lastUp: { step: SecAggUpStep; payload: string; sent: boolean } | null;
  /** The node sent its last step (unmasking): only a repeat of the step before it is answered now. */
  finished: boolean;
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
    // An earlier session of this study is over once the coordinator starts another.
    for (const [k, old] of this.sessions) if (old.task.studyId === task.studyId) this.sessions.delete(k);
    const session: Session = { client, task, vector, weight, stopped: false, lastDown: null, lastUp: null, finished: false };
    this.sessions.set(key(task.studyId, task.round, params.session), session);
    this.up(session, 'advertise', client.advertiseKeys());
  }

  /**
   * The train task came again (the coordinator re-sends it after a reconnect while it waits for this
   * node's keys). If this node is already in that session it must not start over — new keys would not
   * match the shares the other sites hold, and training again would, under differential privacy, spend
   * budget twice — so it sends its keys again when those are what it last sent, and returns true.
   * Returns false when it has no live session for the task (it should train and begin).
   */
  repeatTask(task: TrainTaskBody): boolean {
    const session = task.secagg ? this.sessions.get(key(task.studyId, task.round, task.secagg.session)) : undefined;
    if (session === undefined || session.stopped || !session.lastUp) return false;
    if (session.lastUp.step === 'advertise') this.resend(session);
    return true;
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
    if (body.step === session.lastDown && session.lastUp) {
      // The same step again: the coordinator lost this node's answer (a reconnect) and asks once more.
      // The answer is sent as it was computed, never recomputed: a second, different masked input
      // would tell the coordinator more than one does.
      this.resend(session);
      return;
    }
    if (session.finished) throw new SecAggError('BAD_STATE', `step ${body.step} after this node finished session ${body.session} of round ${body.round}`);
    session.lastDown = body.step;
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
        this.finish(session);
        break;
      }
      case 'signatures': {
        let shares: UnmaskingShares;
        try {
          shares = session.client.unmaskConsistent(decodeSecAggPayload<ConsistencySignature[]>(body.payload));
        } catch (err) {
          if (!(err instanceof SecAggError)) throw err;
          this.sessions.delete(key(body.studyId, body.round, body.session));
          this.abort({ studyId: body.studyId, round: body.round, session: body.session, code: err.code, reason: err.message });
          return;
        }
        this.up(session, 'unmasking', shares);
        this.finish(session);
        break;
      }
    }
  }

  private abort(abort: SecAggAbort): void {
    this.aborts.push(abort);
    this.logger.warn('secagg.aborted', { ...abort });
    this.options.onAbort?.(abort);
  }

  /** Done with the session: only its last answer is kept (to send again if asked), not the update. */
  private finish(session: Session): void {
    session.finished = true;
    session.vector = new Float32Array(0);
  }

  private up(session: Session, step: SecAggUpStep, message: unknown): void {
    session.lastUp = { step, payload: encodeSecAggPayload(message), sent: false };
    this.resend(session);
  }

  /** Sends the session's last answer; unsent (offline, or the audit log refused it), it waits to be asked again. */
  private resend(session: Session): void {
    const last = session.lastUp;
    if (!last) return;
    const step = last.step;
    last.sent = this.send(session.task, step, last.payload);
    if (!last.sent) {
      this.logger.warn('secagg.step-unsent', { studyId: session.task.studyId, round: session.task.round, step });
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
