/**
 * Record normalisation shared by every store implementation, so that they all keep exactly the same
 * fields, the same null-vs-undefined rules and the same JSON round-trip semantics.
 */
import type {
  ContributionRecord,
  EnrolmentTokenRecord,
  ModelVersionRecord,
  NodeRecord,
  RoundKind,
  RoundPatch,
  RoundRecord,
  SiteEventFilter,
  SiteEventRecord,
  StudyPatch,
  StudyRecord,
} from './coordinator-store.types';
import { StoreError } from './coordinator-store.errors';

/** Sort rank of a round kind: within one round the train round comes before its evaluation. */
export const ROUND_KIND_RANK: Readonly<Record<RoundKind, number>> = { train: 0, evaluate: 1 };

const STUDY_PATCH_KEYS = ['status', 'updatedAt', 'currentRound', 'latestModelVersion', 'failureReason'] as const;
const ROUND_PATCH_KEYS = ['state', 'modelVersionOut', 'closedAt', 'failureReason', 'metrics', 'participants', 'deadlineAt', 'attempts'] as const;

/**
 * Returns `value` after a JSON.stringify/parse round trip: the exact value a TEXT column gives back
 * (NaN and Infinity become null, undefined members disappear, and the result shares nothing with the input).
 */
export function jsonRoundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Returns a plain Uint8Array copy of `bytes` (also turning a Buffer into a plain Uint8Array). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Copies the known fields of a node, turning an omitted nullable field into null. */
export function normalizeNode(n: NodeRecord): NodeRecord {
  return {
    id: n.id,
    name: n.name,
    signingPublicKey: n.signingPublicKey,
    encryptionPublicKey: n.encryptionPublicKey ?? null,
    status: n.status,
    enrolledAt: n.enrolledAt,
    lastSeenAt: n.lastSeenAt ?? null,
  };
}

/** Copies the known fields of an enrolment token, turning an omitted nullable field into null. */
export function normalizeToken(t: EnrolmentTokenRecord): EnrolmentTokenRecord {
  return {
    tokenHash: t.tokenHash,
    name: t.name,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    usedAt: t.usedAt ?? null,
    usedByNodeId: t.usedByNodeId ?? null,
  };
}

/** Copies the known fields of a study; the spec goes through JSON as it would in a TEXT column. */
export function normalizeStudy(s: StudyRecord): StudyRecord {
  return {
    id: s.id,
    spec: jsonRoundTrip(s.spec),
    status: s.status,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    currentRound: s.currentRound,
    latestModelVersion: s.latestModelVersion ?? null,
    failureReason: s.failureReason ?? null,
  };
}

/** Copies the known fields of a round; participants and metrics go through JSON. */
export function normalizeRound(r: RoundRecord): RoundRecord {
  return {
    studyId: r.studyId,
    round: r.round,
    kind: r.kind,
    state: r.state,
    modelVersionIn: r.modelVersionIn,
    modelVersionOut: r.modelVersionOut ?? null,
    participants: jsonRoundTrip(r.participants),
    startedAt: r.startedAt,
    deadlineAt: r.deadlineAt,
    closedAt: r.closedAt ?? null,
    failureReason: r.failureReason ?? null,
    metrics: r.metrics == null ? null : jsonRoundTrip(r.metrics),
    attempts: r.attempts ?? 1,
  };
}

/** Copies the known fields of a contribution; the payload is copied, metrics go through JSON. */
export function normalizeContribution(c: ContributionRecord): ContributionRecord {
  return {
    studyId: c.studyId,
    round: c.round,
    kind: c.kind,
    nodeId: c.nodeId,
    receivedAt: c.receivedAt,
    frameBytes: c.frameBytes,
    frameSha256: c.frameSha256,
    numExamples: c.numExamples,
    payload: c.payload == null ? null : copyBytes(c.payload),
    metrics: jsonRoundTrip(c.metrics),
  };
}

/** Copies the known fields of a model version; the weights are copied, metrics go through JSON. */
export function normalizeModelVersion(m: ModelVersionRecord): ModelVersionRecord {
  return {
    studyId: m.studyId,
    version: m.version,
    round: m.round,
    createdAt: m.createdAt,
    weights: copyBytes(m.weights),
    metrics: m.metrics == null ? null : jsonRoundTrip(m.metrics),
    strategyState: m.strategyState ? copyBytes(m.strategyState) : null,
  };
}

/** The fields of a model version other than its weights, as listings return them. */
export function summarizeModelVersion(m: Omit<ModelVersionRecord, 'weights'>): Omit<ModelVersionRecord, 'weights'> {
  return {
    studyId: m.studyId,
    version: m.version,
    round: m.round,
    createdAt: m.createdAt,
    metrics: m.metrics == null ? null : jsonRoundTrip(m.metrics),
  };
}

/** Copies the known fields of a site event, without its id (the store assigns it). */
export function normalizeSiteEvent(e: SiteEventRecord): Omit<SiteEventRecord, 'id'> {
  return {
    at: e.at,
    nodeId: e.nodeId ?? null,
    kind: e.kind,
    studyId: e.studyId ?? null,
    round: e.round ?? null,
    detail: e.detail,
  };
}

/**
 * Returns `study` with the defined fields of `patch` applied. Keys outside the patchable set (id,
 * spec, createdAt, typos) are ignored even if a caller smuggles them in past the type checker.
 */
export function applyStudyPatch(study: StudyRecord, patch: StudyPatch): StudyRecord {
  const next: StudyRecord = { ...study };
  for (const key of STUDY_PATCH_KEYS) {
    if (patch[key] !== undefined) (next as unknown as Record<string, unknown>)[key] = patch[key];
  }
  return normalizeStudy(next);
}

/** Returns `round` with the defined fields of `patch` applied; keys outside the patchable set are ignored. */
export function applyRoundPatch(round: RoundRecord, patch: RoundPatch): RoundRecord {
  const next: RoundRecord = { ...round };
  for (const key of ROUND_PATCH_KEYS) {
    if (patch[key] !== undefined) (next as unknown as Record<string, unknown>)[key] = patch[key];
  }
  return normalizeRound(next);
}

/** Returns the limit of a site-event filter, or null for none; `StoreError` unless a non-negative integer. */
export function siteEventLimit(filter: SiteEventFilter | undefined): number | null {
  const limit = filter?.limit;
  if (limit === undefined) return null;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new StoreError(`site event limit must be a non-negative integer, got ${String(limit)}`);
  }
  return limit;
}

/** True for a promise or any other thenable: a transaction body that went asynchronous. */
export function isThenable(value: unknown): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Thrown (and the transaction rolled back) when a transaction body returns a promise. */
export function asyncTransactionError(): StoreError {
  return new StoreError('transaction body returned a promise; store transactions must be synchronous');
}
