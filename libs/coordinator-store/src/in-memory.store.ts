import type {
  ContributionRecord,
  CoordinatorStore,
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
import { DuplicateError, NotFoundError, StoreError } from './coordinator-store.errors';
import {
  ROUND_KIND_RANK,
  applyRoundPatch,
  applyStudyPatch,
  asyncTransactionError,
  isThenable,
  normalizeContribution,
  normalizeModelVersion,
  normalizeNode,
  normalizeRound,
  normalizeSiteEvent,
  normalizeStudy,
  normalizeToken,
  siteEventLimit,
  summarizeModelVersion,
} from './store-records.util';

interface StoredContribution {
  seq: number;
  record: ContributionRecord;
}

/** Everything the in-memory store holds; cloned wholesale to give transactions their rollback point. */
interface MemoryState {
  nodes: Map<string, NodeRecord>;
  tokens: Map<string, EnrolmentTokenRecord>;
  studies: Map<string, StudyRecord>;
  rounds: Map<string, RoundRecord>;
  contributions: StoredContribution[];
  modelVersions: Map<string, ModelVersionRecord>;
  siteEvents: SiteEventRecord[];
  nextContributionSeq: number;
  nextSiteEventId: number;
}

function emptyState(): MemoryState {
  return {
    nodes: new Map(),
    tokens: new Map(),
    studies: new Map(),
    rounds: new Map(),
    contributions: [],
    modelVersions: new Map(),
    siteEvents: [],
    nextContributionSeq: 1,
    nextSiteEventId: 1,
  };
}

// JSON arrays as keys: no separator character can make two different keys collide.
const roundKey = (studyId: string, round: number, kind: RoundKind): string => JSON.stringify([studyId, round, kind]);
const modelKey = (studyId: string, version: number): string => JSON.stringify([studyId, version]);

/**
 * A {@link CoordinatorStore} held in process memory, for unit tests of the round logic. It follows
 * the same contract as the SQLite store (`describeCoordinatorStoreContract` runs against both):
 * same uniqueness and referential errors, same ordering, JSON round trips and copies in and out.
 * Transactions snapshot the whole state with `structuredClone`, so keep it to test-sized data.
 */
export class InMemoryStore implements CoordinatorStore {
  private state: MemoryState = emptyState();
  private closed = false;

  upsertNode(node: NodeRecord): void {
    this.assertOpen();
    const clash = this.findNodeBySigningKey(node.signingPublicKey);
    if (clash && clash.id !== node.id) {
      throw new DuplicateError(`signing key of node ${node.id} is already enrolled as node ${clash.id}`);
    }
    this.state.nodes.set(node.id, normalizeNode(node));
  }

  getNode(id: string): NodeRecord | null {
    this.assertOpen();
    const node = this.state.nodes.get(id);
    return node ? normalizeNode(node) : null;
  }

  getNodeBySigningKey(signingPublicKey: string): NodeRecord | null {
    this.assertOpen();
    const node = this.findNodeBySigningKey(signingPublicKey);
    return node ? normalizeNode(node) : null;
  }

  listNodes(): NodeRecord[] {
    this.assertOpen();
    return [...this.state.nodes.values()]
      .sort((a, b) => a.enrolledAt - b.enrolledAt || compareText(a.id, b.id))
      .map(normalizeNode);
  }

  touchNode(id: string, at: number, encryptionPublicKey?: string): void {
    this.assertOpen();
    const node = this.state.nodes.get(id);
    if (!node) throw new NotFoundError(`node ${id} not found`);
    node.lastSeenAt = at;
    if (encryptionPublicKey !== undefined) node.encryptionPublicKey = encryptionPublicKey;
  }

  addEnrolmentToken(t: EnrolmentTokenRecord): void {
    this.assertOpen();
    if (this.state.tokens.has(t.tokenHash)) {
      throw new DuplicateError(`enrolment token ${t.tokenHash.slice(0, 12)}… already exists`);
    }
    this.state.tokens.set(t.tokenHash, normalizeToken(t));
  }

  consumeEnrolmentToken(tokenHash: string, nodeId: string, now: number): EnrolmentTokenRecord | null {
    this.assertOpen();
    const token = this.state.tokens.get(tokenHash);
    if (!token || token.usedAt !== null || now >= token.expiresAt) return null;
    token.usedAt = now;
    token.usedByNodeId = nodeId;
    return normalizeToken(token);
  }

  createStudy(s: StudyRecord): void {
    this.assertOpen();
    if (this.state.studies.has(s.id)) throw new DuplicateError(`study ${s.id} already exists`);
    this.state.studies.set(s.id, normalizeStudy(s));
  }

  getStudy(id: string): StudyRecord | null {
    this.assertOpen();
    const study = this.state.studies.get(id);
    return study ? normalizeStudy(study) : null;
  }

  listStudies(): StudyRecord[] {
    this.assertOpen();
    return [...this.state.studies.values()]
      .sort((a, b) => a.createdAt - b.createdAt || compareText(a.id, b.id))
      .map(normalizeStudy);
  }

  updateStudy(id: string, patch: StudyPatch): StudyRecord {
    this.assertOpen();
    const study = this.state.studies.get(id);
    if (!study) throw new NotFoundError(`study ${id} not found`);
    const next = applyStudyPatch(study, patch);
    this.state.studies.set(id, next);
    return normalizeStudy(next);
  }

  createRound(r: RoundRecord): void {
    this.assertOpen();
    if (!this.state.studies.has(r.studyId)) throw new NotFoundError(`study ${r.studyId} not found`);
    const key = roundKey(r.studyId, r.round, r.kind);
    if (this.state.rounds.has(key)) {
      throw new DuplicateError(`${r.kind} round ${r.round} of study ${r.studyId} already exists`);
    }
    this.state.rounds.set(key, normalizeRound(r));
  }

  getRound(studyId: string, round: number, kind: RoundKind): RoundRecord | null {
    this.assertOpen();
    const record = this.state.rounds.get(roundKey(studyId, round, kind));
    return record ? normalizeRound(record) : null;
  }

  listRounds(studyId: string): RoundRecord[] {
    this.assertOpen();
    return [...this.state.rounds.values()]
      .filter((r) => r.studyId === studyId)
      .sort((a, b) => a.round - b.round || ROUND_KIND_RANK[a.kind] - ROUND_KIND_RANK[b.kind])
      .map(normalizeRound);
  }

  updateRound(studyId: string, round: number, kind: RoundKind, patch: RoundPatch): RoundRecord {
    this.assertOpen();
    const key = roundKey(studyId, round, kind);
    const record = this.state.rounds.get(key);
    if (!record) throw new NotFoundError(`${kind} round ${round} of study ${studyId} not found`);
    const next = applyRoundPatch(record, patch);
    this.state.rounds.set(key, next);
    return normalizeRound(next);
  }

  addContribution(c: ContributionRecord): void {
    this.assertOpen();
    if (!this.state.rounds.has(roundKey(c.studyId, c.round, c.kind))) {
      throw new NotFoundError(`${c.kind} round ${c.round} of study ${c.studyId} not found`);
    }
    if (!this.state.nodes.has(c.nodeId)) throw new NotFoundError(`node ${c.nodeId} not found`);
    const clash = this.state.contributions.some(
      ({ record: x }) => x.studyId === c.studyId && x.round === c.round && x.kind === c.kind && x.nodeId === c.nodeId,
    );
    if (clash) {
      throw new DuplicateError(`node ${c.nodeId} already contributed to ${c.kind} round ${c.round} of study ${c.studyId}`);
    }
    this.state.contributions.push({ seq: this.state.nextContributionSeq++, record: normalizeContribution(c) });
  }

  listContributions(studyId: string, round: number, kind: RoundKind): ContributionRecord[] {
    this.assertOpen();
    return this.state.contributions
      .filter(({ record: c }) => c.studyId === studyId && c.round === round && c.kind === kind)
      .sort((a, b) => a.record.receivedAt - b.record.receivedAt || a.seq - b.seq)
      .map(({ record }) => normalizeContribution(record));
  }

  saveModelVersion(m: ModelVersionRecord): void {
    this.assertOpen();
    if (!this.state.studies.has(m.studyId)) throw new NotFoundError(`study ${m.studyId} not found`);
    const key = modelKey(m.studyId, m.version);
    if (this.state.modelVersions.has(key)) {
      throw new DuplicateError(`model version ${m.version} of study ${m.studyId} already exists`);
    }
    this.state.modelVersions.set(key, normalizeModelVersion(m));
  }

  getModelVersion(studyId: string, version: number): ModelVersionRecord | null {
    this.assertOpen();
    const record = this.state.modelVersions.get(modelKey(studyId, version));
    return record ? normalizeModelVersion(record) : null;
  }

  listModelVersions(studyId: string): Omit<ModelVersionRecord, 'weights'>[] {
    this.assertOpen();
    return [...this.state.modelVersions.values()]
      .filter((m) => m.studyId === studyId)
      .sort((a, b) => a.version - b.version)
      .map(summarizeModelVersion);
  }

  addSiteEvent(e: SiteEventRecord): void {
    this.assertOpen();
    this.state.siteEvents.push({ id: this.state.nextSiteEventId++, ...normalizeSiteEvent(e) });
  }

  listSiteEvents(filter?: SiteEventFilter): SiteEventRecord[] {
    this.assertOpen();
    const limit = siteEventLimit(filter);
    const matching = this.state.siteEvents
      .filter((e) => filter?.nodeId === undefined || e.nodeId === filter.nodeId)
      .filter((e) => filter?.studyId === undefined || e.studyId === filter.studyId)
      .sort((a, b) => b.at - a.at || (b.id ?? 0) - (a.id ?? 0))
      .map((e) => ({ ...e }));
    return limit === null ? matching : matching.slice(0, limit);
  }

  transaction<T>(fn: () => T): T {
    this.assertOpen();
    const snapshot = structuredClone(this.state);
    try {
      const result = fn();
      if (isThenable(result)) throw asyncTransactionError();
      return result;
    } catch (err) {
      // All-or-nothing, like a SQLite savepoint: every write made inside fn is discarded.
      this.state = snapshot;
      throw err;
    }
  }

  close(): void {
    this.closed = true;
  }

  private findNodeBySigningKey(signingPublicKey: string): NodeRecord | undefined {
    for (const node of this.state.nodes.values()) {
      if (node.signingPublicKey === signingPublicKey) return node;
    }
    return undefined;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('in-memory coordinator store is closed');
  }
}

/** Orders strings by UTF-16 code units, as SQLite's default BINARY collation does for ASCII ids. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
