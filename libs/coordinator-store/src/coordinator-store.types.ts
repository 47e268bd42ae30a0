/**
 * The coordinator's persistent state, described independently of any database. The round state
 * machine talks only to {@link CoordinatorStore}; SQLite today, PostgreSQL later, in-memory in tests.
 * Timestamps are epoch milliseconds (integers). Every record returned is a fresh copy: mutating it
 * never changes what is stored.
 */
import type { StudySpec } from '@medfed/protocol';

/** Whether a node may take part in studies. Revoked nodes are kept, never deleted, for the audit trail. */
export type NodeStatus = 'enrolled' | 'revoked';

/** An enrolled hospital node, identified by the fingerprint of its signing key. */
export interface NodeRecord {
  /** Key fingerprint, 16 hex characters. */
  id: string;
  name: string;
  /** Ed25519 signing public key, base64. Unique across nodes. */
  signingPublicKey: string;
  /** X25519 encryption public key, base64; null until the node's first hello. */
  encryptionPublicKey: string | null;
  status: NodeStatus;
  enrolledAt: number;
  lastSeenAt: number | null;
}

/** A one-time enrolment token, stored only as its hash. */
export interface EnrolmentTokenRecord {
  /** SHA-256 hex of the token; the token itself is never stored. */
  tokenHash: string;
  /** Name the enrolling node will be given. */
  name: string;
  createdAt: number;
  /** The token is expired from this instant on (`now >= expiresAt`). */
  expiresAt: number;
  usedAt: number | null;
  usedByNodeId: string | null;
}

/** Life cycle of a study. */
export type StudyStatus = 'created' | 'running' | 'completed' | 'failed' | 'stopped';

/** A study and where it is in its rounds. */
export interface StudyRecord {
  id: string;
  spec: StudySpec;
  status: StudyStatus;
  createdAt: number;
  updatedAt: number;
  /** 0 before the first round. */
  currentRound: number;
  latestModelVersion: number | null;
  failureReason: string | null;
}

/** What a round asks the sites to do. */
export type RoundKind = 'train' | 'evaluate';

/** Life cycle of one round. */
export type RoundState = 'collecting' | 'aggregating' | 'completed' | 'failed';

/** One round of one study; keyed by (studyId, round, kind). */
export interface RoundRecord {
  studyId: string;
  round: number;
  kind: RoundKind;
  state: RoundState;
  /** Global model version dispatched to the sites. */
  modelVersionIn: number;
  /** Model version produced by aggregation (train rounds), once there is one. */
  modelVersionOut: number | null;
  /** Node ids selected for the round. */
  participants: string[];
  startedAt: number;
  deadlineAt: number;
  closedAt: number | null;
  failureReason: string | null;
  metrics: Record<string, unknown> | null;
  /** How many times the round has been dispatched: 1, plus one per retry after closing below minSites. */
  attempts?: number;
}

/** One site's accepted answer to one round; at most one per (studyId, round, kind, nodeId). */
export interface ContributionRecord {
  studyId: string;
  round: number;
  kind: RoundKind;
  nodeId: string;
  receivedAt: number;
  /** Size of the signed frame as received, for the audit trail. */
  frameBytes: number;
  /** SHA-256 hex of the signed frame as received. */
  frameSha256: string;
  numExamples: number;
  /** Encoded tensors (train rounds); null for evaluate rounds. */
  payload: Uint8Array | null;
  /** Aggregate numbers only, never patient-level data. */
  metrics: Record<string, unknown>;
}

/** A global model version; keyed by (studyId, version). Version 0 is the seeded initial model. */
export interface ModelVersionRecord {
  studyId: string;
  version: number;
  /** Round that produced it (0 for the initial model). */
  round: number;
  createdAt: number;
  /** Encoded tensors. */
  weights: Uint8Array;
  metrics: Record<string, unknown> | null;
  /** The aggregation strategy's server state after producing this version (encoded tensors, with names), so a resumed or rolled-back study continues exactly. */
  strategyState?: Uint8Array | null;
}

/** Something operators should see about a site: a rejected message, a declined task, a late answer. */
export interface SiteEventRecord {
  /** Assigned by the store (increasing); ignored on insert. */
  id?: number;
  at: number;
  /** Null when the sender could not be identified. Not checked against the node table. */
  nodeId: string | null;
  /** 'rejected' | 'declined' | 'late' | ... */
  kind: string;
  studyId: string | null;
  round: number | null;
  detail: string;
}

/** Fields of a study that may change after creation. */
export type StudyPatch = Partial<Omit<StudyRecord, 'id' | 'spec' | 'createdAt'>>;

/** Fields of a round that may change after creation. */
export type RoundPatch = Partial<
  Pick<RoundRecord, 'state' | 'modelVersionOut' | 'closedAt' | 'failureReason' | 'metrics' | 'participants' | 'deadlineAt' | 'attempts'>
>;

/** Filter for {@link CoordinatorStore.listSiteEvents}; all fields optional and combined with AND. */
export interface SiteEventFilter {
  nodeId?: string;
  studyId?: string;
  /** Maximum number of events returned (the most recent ones). */
  limit?: number;
}

/**
 * Repository for everything the coordinator must remember across restarts.
 *
 * Referential rules (the same in every implementation): rounds and model versions need an existing
 * study, contributions need an existing round and node, otherwise `NotFoundError`. Unique-key
 * clashes throw `DuplicateError`. JSON fields (spec, metrics, participants) round-trip through
 * JSON, so `NaN`/`Infinity` come back as `null` and `undefined` members are dropped.
 */
export interface CoordinatorStore {
  // nodes
  /** Inserts or fully replaces the node with `node.id`. `DuplicateError` if another node has the same signing key. */
  upsertNode(node: NodeRecord): void;
  getNode(id: string): NodeRecord | null;
  getNodeBySigningKey(signingPublicKey: string): NodeRecord | null;
  /** All nodes, ordered by enrolledAt then id. */
  listNodes(): NodeRecord[];
  /** Sets lastSeenAt (and the encryption key, if given). `NotFoundError` for an unknown node. */
  touchNode(id: string, at: number, encryptionPublicKey?: string): void;

  // enrolment tokens
  /** `DuplicateError` on a tokenHash clash. */
  addEnrolmentToken(t: EnrolmentTokenRecord): void;
  /** Atomically marks an unused, unexpired token as used; returns the record or null if unknown/used/expired. */
  consumeEnrolmentToken(tokenHash: string, nodeId: string, now: number): EnrolmentTokenRecord | null;

  // studies
  /** `DuplicateError` on id clash. */
  createStudy(s: StudyRecord): void;
  getStudy(id: string): StudyRecord | null;
  /** All studies, ordered by createdAt then id. */
  listStudies(): StudyRecord[];
  /** Applies the defined fields of `patch` (others ignored) and returns the new record. `NotFoundError`. */
  updateStudy(id: string, patch: StudyPatch): StudyRecord;

  // rounds
  /** `DuplicateError` on (studyId, round, kind); `NotFoundError` if the study does not exist. */
  createRound(r: RoundRecord): void;
  getRound(studyId: string, round: number, kind: RoundKind): RoundRecord | null;
  /** Ordered by round, then kind ('train' before 'evaluate'). */
  listRounds(studyId: string): RoundRecord[];
  /** Applies the defined fields of `patch` and returns the new record. `NotFoundError`. */
  updateRound(studyId: string, round: number, kind: RoundKind, patch: RoundPatch): RoundRecord;

  // contributions
  /** `DuplicateError` if that node already contributed to that study/round/kind; `NotFoundError` for an unknown round or node. */
  addContribution(c: ContributionRecord): void;
  /** Ordered by receivedAt, then insertion order. */
  listContributions(studyId: string, round: number, kind: RoundKind): ContributionRecord[];

  // model versions
  /** `DuplicateError` on (studyId, version); `NotFoundError` if the study does not exist. */
  saveModelVersion(m: ModelVersionRecord): void;
  getModelVersion(studyId: string, version: number): ModelVersionRecord | null;
  /** Ordered by version; weights left out so listing stays cheap. */
  listModelVersions(studyId: string): Omit<ModelVersionRecord, 'weights'>[];

  // events shown to operators (rejections, declines, late answers)
  /** Stores the event under a new, increasing id (any `e.id` is ignored). */
  addSiteEvent(e: SiteEventRecord): void;
  /** Matching events, most recent first (by `at`, then id), at most `limit` of them. */
  listSiteEvents(filter?: SiteEventFilter): SiteEventRecord[];

  /**
   * Runs fn atomically (SQLite transaction; all-or-nothing). If fn throws, every write it made is
   * undone and the error is rethrown. Nests (inner calls become savepoints). fn must be synchronous:
   * returning a promise rolls back and throws `StoreError`.
   */
  transaction<T>(fn: () => T): T;
  /** Releases the store; idempotent. Any later call throws `StoreError`. */
  close(): void;
}
