import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { StudySpec } from '@medfed/protocol';
import type {
  ContributionRecord,
  CoordinatorStore,
  EnrolmentTokenRecord,
  ModelVersionRecord,
  NodeRecord,
  NodeStatus,
  RoundKind,
  RoundPatch,
  RoundRecord,
  RoundState,
  SiteEventFilter,
  SiteEventRecord,
  StudyPatch,
  StudyRecord,
  StudyStatus,
} from './coordinator-store.types';
import { DuplicateError, NotFoundError, StoreError } from './coordinator-store.errors';
import { SQLITE_APPLICATION_ID, SQLITE_MIGRATIONS } from './sqlite-schema.migrations';
import {
  applyRoundPatch,
  applyStudyPatch,
  asyncTransactionError,
  copyBytes,
  isThenable,
  normalizeContribution,
  normalizeModelVersion,
  normalizeNode,
  normalizeRound,
  normalizeSiteEvent,
  normalizeStudy,
  normalizeToken,
  siteEventLimit,
} from './store-records.util';

interface NodeRow {
  id: string;
  name: string;
  signing_public_key: string;
  encryption_public_key: string | null;
  status: string;
  enrolled_at: number;
  last_seen_at: number | null;
}

interface TokenRow {
  token_hash: string;
  name: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  used_by_node_id: string | null;
}

interface StudyRow {
  id: string;
  spec: string;
  status: string;
  created_at: number;
  updated_at: number;
  current_round: number;
  latest_model_version: number | null;
  failure_reason: string | null;
}

interface RoundRow {
  study_id: string;
  round: number;
  kind: string;
  state: string;
  model_version_in: number;
  model_version_out: number | null;
  participants: string;
  started_at: number;
  deadline_at: number;
  closed_at: number | null;
  failure_reason: string | null;
  metrics: string | null;
  attempts: number;
}

interface ContributionRow {
  study_id: string;
  round: number;
  kind: string;
  node_id: string;
  received_at: number;
  frame_bytes: number;
  frame_sha256: string;
  num_examples: number;
  payload: Buffer | null;
  metrics: string;
}

interface ModelVersionRow {
  study_id: string;
  version: number;
  round: number;
  created_at: number;
  weights?: Buffer;
  metrics: string | null;
  strategy_state?: Buffer | null;
}

interface SiteEventRow {
  id: number;
  at: number;
  node_id: string | null;
  kind: string;
  study_id: string | null;
  round: number | null;
  detail: string;
}

type Statement = Database.Statement<unknown[], unknown>;

/**
 * Opens (creating if missing, with its parent directory) the coordinator's SQLite database at
 * `path` and brings its schema up to date. WAL journal, foreign keys enforced, schema version in
 * `PRAGMA user_version`, file marked with `PRAGMA application_id` "MFED".
 * @param path file path, or ':memory:' for a throwaway database.
 * @throws StoreError naming the path if the file cannot be opened, is not a SQLite database, belongs
 *   to another application, or has a schema newer than this code.
 */
export function openSqliteStore(path: string): CoordinatorStore {
  const inMemory = path === ':memory:' || path === '';
  let db: Database.Database;
  try {
    if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });
    db = new Database(path);
  } catch (err) {
    throw new StoreError(`cannot open coordinator database ${path}: ${messageOf(err)}`, { cause: err });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // Another process (a CLI reading state) may hold a lock briefly; wait rather than fail at once.
    db.pragma('busy_timeout = 5000');
    migrate(db, path);
    return new SqliteStore(db, path);
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`${path} is not a readable coordinator database: ${messageOf(err)}`, { cause: err });
  }
}

/** Applies the pending migrations, each in its own transaction together with its version bump. */
function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  if (applicationId !== 0 && applicationId !== SQLITE_APPLICATION_ID) {
    throw new StoreError(`${path} is a SQLite database of another application (application_id ${applicationId})`);
  }
  if (version === 0) {
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number };
    // Never add our tables to somebody else's database.
    if (tables.n > 0) throw new StoreError(`${path} is a SQLite database with ${tables.n} foreign table(s), not a coordinator database`);
  }
  if (version > SQLITE_MIGRATIONS.length) {
    throw new StoreError(
      `${path} has schema version ${version}, newer than this coordinator supports (${SQLITE_MIGRATIONS.length}); upgrade medfed`,
    );
  }
  for (let v = version; v < SQLITE_MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(SQLITE_MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
      db.pragma(`application_id = ${SQLITE_APPLICATION_ID}`);
    })();
  }
}

/**
 * The {@link CoordinatorStore} on an embedded SQLite database (better-sqlite3, synchronous).
 * Obtain one with {@link openSqliteStore}. One instance per file per process.
 */
export class SqliteStore implements CoordinatorStore {
  private readonly stmt: Record<string, Statement>;
  private closed = false;

  /**
   * @param db an open database whose schema is current (see {@link openSqliteStore}).
   * @param path the file path, used in error messages.
   */
  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
  ) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.stmt = {
      upsertNode: prepare(`
        INSERT INTO nodes (id, name, signing_public_key, encryption_public_key, status, enrolled_at, last_seen_at)
        VALUES (@id, @name, @signingPublicKey, @encryptionPublicKey, @status, @enrolledAt, @lastSeenAt)
        ON CONFLICT (id) DO UPDATE SET
          name = excluded.name, signing_public_key = excluded.signing_public_key,
          encryption_public_key = excluded.encryption_public_key, status = excluded.status,
          enrolled_at = excluded.enrolled_at, last_seen_at = excluded.last_seen_at`),
      getNode: prepare('SELECT * FROM nodes WHERE id = ?'),
      getNodeBySigningKey: prepare('SELECT * FROM nodes WHERE signing_public_key = ?'),
      listNodes: prepare('SELECT * FROM nodes ORDER BY enrolled_at, id'),
      touchNode: prepare(`
        UPDATE nodes SET last_seen_at = @at, encryption_public_key = coalesce(@encryptionPublicKey, encryption_public_key)
        WHERE id = @id`),
      addToken: prepare(`
        INSERT INTO enrolment_tokens (token_hash, name, created_at, expires_at, used_at, used_by_node_id)
        VALUES (@tokenHash, @name, @createdAt, @expiresAt, @usedAt, @usedByNodeId)`),
      // One statement, so "check unused and unexpired, then mark used" cannot interleave with another consumer.
      consumeToken: prepare(`
        UPDATE enrolment_tokens SET used_at = @now, used_by_node_id = @nodeId
        WHERE token_hash = @tokenHash AND used_at IS NULL AND expires_at > @now
        RETURNING *`),
      createStudy: prepare(`
        INSERT INTO studies (id, spec, status, created_at, updated_at, current_round, latest_model_version, failure_reason)
        VALUES (@id, @spec, @status, @createdAt, @updatedAt, @currentRound, @latestModelVersion, @failureReason)`),
      getStudy: prepare('SELECT * FROM studies WHERE id = ?'),
      listStudies: prepare('SELECT * FROM studies ORDER BY created_at, id'),
      updateStudy: prepare(`
        UPDATE studies SET status = @status, updated_at = @updatedAt, current_round = @currentRound,
          latest_model_version = @latestModelVersion, failure_reason = @failureReason
        WHERE id = @id`),
      createRound: prepare(`
        INSERT INTO rounds (study_id, round, kind, state, model_version_in, model_version_out, participants,
          started_at, deadline_at, closed_at, failure_reason, metrics, attempts)
        VALUES (@studyId, @round, @kind, @state, @modelVersionIn, @modelVersionOut, @participants,
          @startedAt, @deadlineAt, @closedAt, @failureReason, @metrics, @attempts)`),
      getRound: prepare('SELECT * FROM rounds WHERE study_id = ? AND round = ? AND kind = ?'),
      listRounds: prepare(`
        SELECT * FROM rounds WHERE study_id = ?
        ORDER BY round, CASE kind WHEN 'train' THEN 0 ELSE 1 END`),
      updateRound: prepare(`
        UPDATE rounds SET state = @state, model_version_out = @modelVersionOut, participants = @participants,
          deadline_at = @deadlineAt, closed_at = @closedAt, failure_reason = @failureReason, metrics = @metrics,
          attempts = @attempts
        WHERE study_id = @studyId AND round = @round AND kind = @kind`),
      addContribution: prepare(`
        INSERT INTO contributions (study_id, round, kind, node_id, received_at, frame_bytes, frame_sha256,
          num_examples, payload, metrics)
        VALUES (@studyId, @round, @kind, @nodeId, @receivedAt, @frameBytes, @frameSha256,
          @numExamples, @payload, @metrics)`),
      listContributions: prepare(`
        SELECT * FROM contributions WHERE study_id = ? AND round = ? AND kind = ?
        ORDER BY received_at, seq`),
      saveModelVersion: prepare(`
        INSERT INTO model_versions (study_id, version, round, created_at, weights, metrics, strategy_state)
        VALUES (@studyId, @version, @round, @createdAt, @weights, @metrics, @strategyState)`),
      getModelVersion: prepare('SELECT * FROM model_versions WHERE study_id = ? AND version = ?'),
      listModelVersions: prepare(`
        SELECT study_id, version, round, created_at, metrics FROM model_versions
        WHERE study_id = ? ORDER BY version`),
      addSiteEvent: prepare(`
        INSERT INTO site_events (at, node_id, kind, study_id, round, detail)
        VALUES (@at, @nodeId, @kind, @studyId, @round, @detail)`),
      listSiteEvents: prepare(`
        SELECT * FROM site_events
        WHERE (@nodeId IS NULL OR node_id = @nodeId) AND (@studyId IS NULL OR study_id = @studyId)
        ORDER BY at DESC, id DESC
        LIMIT @limit`),
    };
  }

  upsertNode(node: NodeRecord): void {
    const n = normalizeNode(node);
    this.run(() => this.stmt.upsertNode.run(n), {
      duplicate: () => `signing key of node ${n.id} is already enrolled as node ${this.getNodeBySigningKey(n.signingPublicKey)?.id}`,
    });
  }

  getNode(id: string): NodeRecord | null {
    const row = this.run(() => this.stmt.getNode.get(id)) as NodeRow | undefined;
    return row ? nodeFromRow(row) : null;
  }

  getNodeBySigningKey(signingPublicKey: string): NodeRecord | null {
    const row = this.run(() => this.stmt.getNodeBySigningKey.get(signingPublicKey)) as NodeRow | undefined;
    return row ? nodeFromRow(row) : null;
  }

  listNodes(): NodeRecord[] {
    return (this.run(() => this.stmt.listNodes.all()) as NodeRow[]).map(nodeFromRow);
  }

  touchNode(id: string, at: number, encryptionPublicKey?: string): void {
    const result = this.run(() => this.stmt.touchNode.run({ id, at, encryptionPublicKey: encryptionPublicKey ?? null }));
    if (result.changes === 0) throw new NotFoundError(`node ${id} not found`);
  }

  addEnrolmentToken(t: EnrolmentTokenRecord): void {
    const token = normalizeToken(t);
    this.run(() => this.stmt.addToken.run(token), {
      duplicate: () => `enrolment token ${token.tokenHash.slice(0, 12)}… already exists`,
    });
  }

  consumeEnrolmentToken(tokenHash: string, nodeId: string, now: number): EnrolmentTokenRecord | null {
    const row = this.run(() => this.stmt.consumeToken.get({ tokenHash, nodeId, now })) as TokenRow | undefined;
    return row ? tokenFromRow(row) : null;
  }

  createStudy(s: StudyRecord): void {
    const study = normalizeStudy(s);
    this.run(() => this.stmt.createStudy.run({ ...study, spec: JSON.stringify(study.spec) }), {
      duplicate: () => `study ${study.id} already exists`,
    });
  }

  getStudy(id: string): StudyRecord | null {
    const row = this.run(() => this.stmt.getStudy.get(id)) as StudyRow | undefined;
    return row ? this.studyFromRow(row) : null;
  }

  listStudies(): StudyRecord[] {
    return (this.run(() => this.stmt.listStudies.all()) as StudyRow[]).map((row) => this.studyFromRow(row));
  }

  updateStudy(id: string, patch: StudyPatch): StudyRecord {
    return this.transaction(() => {
      const current = this.getStudy(id);
      if (!current) throw new NotFoundError(`study ${id} not found`);
      const next = applyStudyPatch(current, patch);
      const params = {
        id,
        status: next.status,
        updatedAt: next.updatedAt,
        currentRound: next.currentRound,
        latestModelVersion: next.latestModelVersion,
        failureReason: next.failureReason,
      };
      this.run(() => this.stmt.updateStudy.run(params));
      return next;
    });
  }

  createRound(r: RoundRecord): void {
    const round = normalizeRound(r);
    this.transaction(() => {
      if (!this.getStudy(round.studyId)) throw new NotFoundError(`study ${round.studyId} not found`);
      this.run(() => this.stmt.createRound.run(roundToParams(round)), {
        duplicate: () => `${round.kind} round ${round.round} of study ${round.studyId} already exists`,
      });
    });
  }

  getRound(studyId: string, round: number, kind: RoundKind): RoundRecord | null {
    const row = this.run(() => this.stmt.getRound.get(studyId, round, kind)) as RoundRow | undefined;
    return row ? this.roundFromRow(row) : null;
  }

  listRounds(studyId: string): RoundRecord[] {
    return (this.run(() => this.stmt.listRounds.all(studyId)) as RoundRow[]).map((row) => this.roundFromRow(row));
  }

  updateRound(studyId: string, round: number, kind: RoundKind, patch: RoundPatch): RoundRecord {
    return this.transaction(() => {
      const current = this.getRound(studyId, round, kind);
      if (!current) throw new NotFoundError(`${kind} round ${round} of study ${studyId} not found`);
      const next = applyRoundPatch(current, patch);
      this.run(() => this.stmt.updateRound.run(roundToParams(next)));
      return next;
    });
  }

  addContribution(c: ContributionRecord): void {
    const contribution = normalizeContribution(c);
    this.transaction(() => {
      if (!this.getRound(contribution.studyId, contribution.round, contribution.kind)) {
        throw new NotFoundError(`${contribution.kind} round ${contribution.round} of study ${contribution.studyId} not found`);
      }
      if (!this.getNode(contribution.nodeId)) throw new NotFoundError(`node ${contribution.nodeId} not found`);
      const params = {
        ...contribution,
        payload: contribution.payload === null ? null : toBuffer(contribution.payload),
        metrics: JSON.stringify(contribution.metrics),
      };
      this.run(() => this.stmt.addContribution.run(params), {
        duplicate: () =>
          `node ${contribution.nodeId} already contributed to ${contribution.kind} round ${contribution.round} of study ${contribution.studyId}`,
      });
    });
  }

  listContributions(studyId: string, round: number, kind: RoundKind): ContributionRecord[] {
    const rows = this.run(() => this.stmt.listContributions.all(studyId, round, kind)) as ContributionRow[];
    return rows.map((row) => ({
      studyId: row.study_id,
      round: row.round,
      kind: row.kind as RoundKind,
      nodeId: row.node_id,
      receivedAt: row.received_at,
      frameBytes: row.frame_bytes,
      frameSha256: row.frame_sha256,
      numExamples: row.num_examples,
      payload: row.payload === null ? null : copyBytes(row.payload),
      metrics: this.parseJson<Record<string, unknown>>(row.metrics, `contribution of node ${row.node_id}`),
    }));
  }

  saveModelVersion(m: ModelVersionRecord): void {
    const model = normalizeModelVersion(m);
    this.transaction(() => {
      if (!this.getStudy(model.studyId)) throw new NotFoundError(`study ${model.studyId} not found`);
      const params = {
        ...model,
        weights: toBuffer(model.weights),
        metrics: jsonOrNull(model.metrics),
        strategyState: model.strategyState ? toBuffer(model.strategyState) : null,
      };
      this.run(() => this.stmt.saveModelVersion.run(params), {
        duplicate: () => `model version ${model.version} of study ${model.studyId} already exists`,
      });
    });
  }

  getModelVersion(studyId: string, version: number): ModelVersionRecord | null {
    const row = this.run(() => this.stmt.getModelVersion.get(studyId, version)) as ModelVersionRow | undefined;
    if (!row) return null;
    return {
      ...this.modelSummaryFromRow(row),
      weights: copyBytes(row.weights ?? new Uint8Array(0)),
      strategyState: row.strategy_state ? copyBytes(row.strategy_state) : null,
    };
  }

  listModelVersions(studyId: string): Omit<ModelVersionRecord, 'weights'>[] {
    const rows = this.run(() => this.stmt.listModelVersions.all(studyId)) as ModelVersionRow[];
    return rows.map((row) => this.modelSummaryFromRow(row));
  }

  addSiteEvent(e: SiteEventRecord): void {
    const event = normalizeSiteEvent(e);
    this.run(() => this.stmt.addSiteEvent.run(event));
  }

  listSiteEvents(filter?: SiteEventFilter): SiteEventRecord[] {
    const limit = siteEventLimit(filter);
    const params = { nodeId: filter?.nodeId ?? null, studyId: filter?.studyId ?? null, limit: limit ?? -1 };
    const rows = this.run(() => this.stmt.listSiteEvents.all(params)) as SiteEventRow[];
    return rows.map((row) => ({
      id: row.id,
      at: row.at,
      nodeId: row.node_id,
      kind: row.kind,
      studyId: row.study_id,
      round: row.round,
      detail: row.detail,
    }));
  }

  transaction<T>(fn: () => T): T {
    this.assertOpen();
    // better-sqlite3 turns a nested call into a savepoint, so inner failures roll back only their part.
    return this.db.transaction(() => {
      const result = fn();
      if (isThenable(result)) throw asyncTransactionError();
      return result;
    })();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /**
   * Runs one statement, translating SQLite errors: unique-key violations become DuplicateError
   * (message from `messages.duplicate`), foreign-key violations NotFoundError, anything else a
   * StoreError naming the file.
   */
  private run<T>(op: () => T, messages?: { duplicate?: () => string }): T {
    this.assertOpen();
    try {
      return op();
    } catch (err) {
      // Not `instanceof`: the native addon keeps the error class of the first copy of better-sqlite3
      // loaded in the process, so a later copy (jest's per-file module registry and realm, or two
      // installs) would not recognise its own errors.
      if (!isSqliteError(err)) throw err;
      if (err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new DuplicateError(messages?.duplicate?.() ?? err.message, { cause: err });
      }
      if (err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new NotFoundError(`a referenced record does not exist (${err.message})`, { cause: err });
      }
      throw new StoreError(`coordinator database ${this.path}: ${err.code}: ${err.message}`, { cause: err });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError(`coordinator database ${this.path} is closed`);
  }

  private parseJson<T>(text: string, what: string): T {
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new StoreError(`coordinator database ${this.path}: unreadable JSON in ${what}: ${messageOf(err)}`, { cause: err });
    }
  }

  private studyFromRow(row: StudyRow): StudyRecord {
    return {
      id: row.id,
      spec: this.parseJson<StudySpec>(row.spec, `spec of study ${row.id}`),
      status: row.status as StudyStatus,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      currentRound: row.current_round,
      latestModelVersion: row.latest_model_version,
      failureReason: row.failure_reason,
    };
  }

  private roundFromRow(row: RoundRow): RoundRecord {
    const what = `${row.kind} round ${row.round} of study ${row.study_id}`;
    return {
      studyId: row.study_id,
      round: row.round,
      kind: row.kind as RoundKind,
      state: row.state as RoundState,
      modelVersionIn: row.model_version_in,
      modelVersionOut: row.model_version_out,
      participants: this.parseJson<string[]>(row.participants, `participants of ${what}`),
      startedAt: row.started_at,
      deadlineAt: row.deadline_at,
      closedAt: row.closed_at,
      failureReason: row.failure_reason,
      metrics: row.metrics === null ? null : this.parseJson<Record<string, unknown>>(row.metrics, `metrics of ${what}`),
      attempts: row.attempts,
    };
  }

  private modelSummaryFromRow(row: ModelVersionRow): Omit<ModelVersionRecord, 'weights'> {
    return {
      studyId: row.study_id,
      version: row.version,
      round: row.round,
      createdAt: row.created_at,
      metrics:
        row.metrics === null
          ? null
          : this.parseJson<Record<string, unknown>>(row.metrics, `metrics of model version ${row.version} of study ${row.study_id}`),
    };
  }
}

function nodeFromRow(row: NodeRow): NodeRecord {
  return {
    id: row.id,
    name: row.name,
    signingPublicKey: row.signing_public_key,
    encryptionPublicKey: row.encryption_public_key,
    status: row.status as NodeStatus,
    enrolledAt: row.enrolled_at,
    lastSeenAt: row.last_seen_at,
  };
}

function tokenFromRow(row: TokenRow): EnrolmentTokenRecord {
  return {
    tokenHash: row.token_hash,
    name: row.name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    usedByNodeId: row.used_by_node_id,
  };
}

function roundToParams(r: RoundRecord): Record<string, unknown> {
  return { ...r, participants: JSON.stringify(r.participants), metrics: jsonOrNull(r.metrics) };
}

function jsonOrNull(value: Record<string, unknown> | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

/** A Buffer view of `bytes` for binding (no copy: SQLite copies the value when it binds it). */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Recognises better-sqlite3's errors by shape; its class may come from another module copy or realm. */
function isSqliteError(err: unknown): err is Error & { code: string } {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown; message?: unknown };
  return e.name === 'SqliteError' && typeof e.code === 'string' && typeof e.message === 'string';
}
