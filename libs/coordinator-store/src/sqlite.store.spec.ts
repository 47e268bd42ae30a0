import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DuplicateError, NotFoundError, StoreError } from './coordinator-store.errors';
import type { CoordinatorStore } from './coordinator-store.types';
import { openSqliteStore } from './sqlite.store';
import { SQLITE_MIGRATIONS } from './sqlite-schema.migrations';
import {
  describeCoordinatorStoreContract,
  makeContributionRecord,
  makeEnrolmentTokenRecord,
  makeModelVersionRecord,
  makeNodeRecord,
  makeRoundRecord,
  makeSiteEventRecord,
  makeStudyRecord,
} from './testing';

const scratch = mkdtempSync(join(tmpdir(), 'medfed-store-'));
let fileCounter = 0;
const freshPath = (): string => join(scratch, `coordinator-${++fileCounter}.db`);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describeCoordinatorStoreContract('SQLite (file)', () => openSqliteStore(freshPath()));
describeCoordinatorStoreContract('SQLite (:memory:)', () => openSqliteStore(':memory:'));

describe('openSqliteStore', () => {
  let open: CoordinatorStore[] = [];
  const openTracked = (path: string): CoordinatorStore => {
    const store = openSqliteStore(path);
    open.push(store);
    return store;
  };

  afterEach(() => {
    for (const store of open) store.close();
    open = [];
  });

  it('gives a restarted coordinator back its nodes, tokens, studies, rounds, contributions, models and events', () => {
    // Arrange: a coordinator mid-study, then shut down.
    const path = freshPath();
    const first = openTracked(path);
    const nodeA = makeNodeRecord({ id: 'a1b2c3d4e5f60718', encryptionPublicKey: 'enc-a', lastSeenAt: 1_700_000_240_000 });
    const nodeB = makeNodeRecord({ id: 'b2c3d4e5f6071829', status: 'revoked' });
    const study = makeStudyRecord({ status: 'running', currentRound: 1, latestModelVersion: 1 });
    const trainRound = makeRoundRecord({
      state: 'completed',
      modelVersionOut: 1,
      participants: [nodeA.id, nodeB.id],
      closedAt: 1_700_000_250_000,
      metrics: { loss: 0.52, sites: 1 },
    });
    const evalRound = makeRoundRecord({ kind: 'evaluate', modelVersionIn: 1, participants: [nodeA.id] });
    const contribution = makeContributionRecord({ nodeId: nodeA.id, payload: new Uint8Array(4096).map((_, i) => i % 251) });
    const model0 = makeModelVersionRecord();
    const model1 = makeModelVersionRecord({ version: 1, round: 1, weights: new Uint8Array([42, 43]), metrics: { loss: 0.52 } });
    const token = makeEnrolmentTokenRecord();
    first.upsertNode(nodeA);
    first.upsertNode(nodeB);
    first.addEnrolmentToken(token);
    first.consumeEnrolmentToken(token.tokenHash, nodeA.id, token.createdAt + 5);
    first.addEnrolmentToken(makeEnrolmentTokenRecord({ tokenHash: 'dd'.repeat(32) }));
    first.createStudy(study);
    first.createRound(trainRound);
    first.createRound(evalRound);
    first.addContribution(contribution);
    first.saveModelVersion(model0);
    first.saveModelVersion(model1);
    first.addSiteEvent(makeSiteEventRecord());
    first.close();

    // Act
    const second = openTracked(path);

    // Assert
    expect(second.listNodes()).toEqual([nodeA, nodeB]);
    expect(second.getNodeBySigningKey(nodeB.signingPublicKey)).toEqual(nodeB);
    expect(second.listStudies()).toEqual([study]);
    expect(second.listRounds(study.id)).toEqual([trainRound, evalRound]);
    expect(second.listContributions(study.id, 1, 'train')).toEqual([contribution]);
    expect(second.getModelVersion(study.id, 0)).toEqual(model0);
    expect(second.getModelVersion(study.id, 1)).toEqual(model1);
    expect(second.listModelVersions(study.id).map((m) => m.version)).toEqual([0, 1]);
    expect(second.listSiteEvents()).toEqual([{ ...makeSiteEventRecord(), id: 1 }]);
    expect(second.consumeEnrolmentToken(token.tokenHash, nodeB.id, token.createdAt + 6)).toBeNull();
    expect(second.consumeEnrolmentToken('dd'.repeat(32), nodeB.id, token.createdAt + 6)?.usedByNodeId).toBe(nodeB.id);
    expect(() => second.addContribution(contribution)).toThrow(DuplicateError);
  });

  it('keeps nothing of a transaction that threw, also after reopening', () => {
    const path = freshPath();
    const store = openTracked(path);
    store.upsertNode(makeNodeRecord());

    const act = (): void =>
      store.transaction(() => {
        store.createStudy(makeStudyRecord());
        store.createRound(makeRoundRecord());
        store.addContribution(makeContributionRecord());
        throw new Error('aggregation crashed');
      });

    expect(act).toThrow('aggregation crashed');
    store.close();
    const reopened = openTracked(path);
    expect(reopened.listStudies()).toEqual([]);
    expect(reopened.listRounds('study-1')).toEqual([]);
    expect(reopened.listNodes()).toHaveLength(1);
  });

  it('creates a missing parent directory and uses WAL, foreign keys and the latest schema version', () => {
    const path = join(scratch, 'nested', 'deeper', 'coordinator.db');

    openTracked(path).close();

    expect(existsSync(path)).toBe(true);
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('user_version', { simple: true })).toBe(SQLITE_MIGRATIONS.length);
      expect(raw.pragma('application_id', { simple: true })).toBe(0x4d464544);
    } finally {
      raw.close();
    }
  });

  it('enforces foreign keys in the database itself, not only in the store code', () => {
    const path = freshPath();
    openTracked(path).close();
    const raw = new Database(path);
    try {
      raw.pragma('foreign_keys = ON');
      const insertOrphan = (): unknown =>
        raw
          .prepare(
            `INSERT INTO rounds (study_id, round, kind, state, model_version_in, participants, started_at, deadline_at)
             VALUES ('ghost', 1, 'train', 'collecting', 0, '[]', 0, 0)`,
          )
          .run();

      expect(insertOrphan).toThrow(/FOREIGN KEY/);
    } finally {
      raw.close();
    }
  });

  it('throws StoreError naming the path for a file of random bytes', () => {
    const path = join(scratch, 'corrupt.db');
    const bytes = new Uint8Array(8192).map((_, i) => (i * 197 + 13) % 256);
    writeFileSync(path, bytes);

    const act = (): CoordinatorStore => openTracked(path);

    expect(act).toThrow(StoreError);
    expect(act).toThrow(path);
  });

  it('throws StoreError naming the path and both versions for a schema newer than the code', () => {
    const path = freshPath();
    openTracked(path).close();
    const raw = new Database(path);
    raw.pragma('user_version = 7');
    raw.close();

    const act = (): CoordinatorStore => openTracked(path);

    expect(act).toThrow(StoreError);
    expect(act).toThrow(`${path} has schema version 7, newer than this coordinator supports (${SQLITE_MIGRATIONS.length})`);
  });

  it('upgrades a schema-1 database in place, keeping its data, and then stores strategy state', () => {
    const path = freshPath();
    // A database as the first release wrote it: migration 1 only.
    const raw = new Database(path);
    raw.pragma('application_id = 0x4d464544');
    raw.exec(SQLITE_MIGRATIONS[0]);
    raw.pragma('user_version = 1');
    raw.prepare(`INSERT INTO studies VALUES ('s1', '{}', 'running', 1, 1, 1, 0, NULL)`).run();
    raw.prepare(`INSERT INTO model_versions VALUES ('s1', 0, 0, 1, x'0102', NULL)`).run();
    raw.close();

    const store = openTracked(path);
    expect(store.getModelVersion('s1', 0)).toMatchObject({ version: 0, weights: new Uint8Array([1, 2]), strategyState: null });
    store.saveModelVersion(makeModelVersionRecord({ studyId: 's1', version: 1, round: 1, strategyState: new Uint8Array([9, 8, 7]) }));
    expect(store.getModelVersion('s1', 1)?.strategyState).toEqual(new Uint8Array([9, 8, 7]));
  });

  it("refuses another application's SQLite database instead of adding tables to it", () => {
    const path = freshPath();
    const raw = new Database(path);
    raw.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY)');
    raw.close();

    expect(() => openTracked(path)).toThrow(StoreError);
    const check = new Database(path, { readonly: true });
    try {
      const tables = check.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all();
      expect(tables).toEqual([{ name: 'invoices' }]);
    } finally {
      check.close();
    }
  });

  it('throws StoreError naming the path when the path is a directory', () => {
    const path = join(scratch, 'a-directory.db');
    mkdirSync(path);

    const act = (): CoordinatorStore => openTracked(path);

    expect(act).toThrow(StoreError);
    expect(act).toThrow(path);
  });

  it('refuses a duplicate contribution with DuplicateError and a contribution to an unknown round with NotFoundError', () => {
    const store = openTracked(freshPath());
    store.upsertNode(makeNodeRecord());
    store.createStudy(makeStudyRecord());
    store.createRound(makeRoundRecord());
    store.addContribution(makeContributionRecord());

    const duplicate = (): void => store.addContribution(makeContributionRecord({ receivedAt: 1 }));
    const unknownRound = (): void => store.addContribution(makeContributionRecord({ round: 9 }));

    expect(duplicate).toThrow(DuplicateError);
    expect(duplicate).toThrow('node a1b2c3d4e5f60718 already contributed to train round 1 of study study-1');
    expect(unknownRound).toThrow(NotFoundError);
  });

  it('consumes an enrolment token only once and never after expiry, across a restart', () => {
    const path = freshPath();
    const store = openTracked(path);
    const token = makeEnrolmentTokenRecord({ createdAt: 1_000, expiresAt: 2_000 });
    const expiring = makeEnrolmentTokenRecord({ tokenHash: 'ee'.repeat(32), createdAt: 1_000, expiresAt: 2_000 });
    store.addEnrolmentToken(token);
    store.addEnrolmentToken(expiring);

    const first = store.consumeEnrolmentToken(token.tokenHash, 'a1b2c3d4e5f60718', 1_500);
    store.close();
    const reopened = openTracked(path);
    const again = reopened.consumeEnrolmentToken(token.tokenHash, 'b2c3d4e5f6071829', 1_600);
    const expired = reopened.consumeEnrolmentToken(expiring.tokenHash, 'b2c3d4e5f6071829', 2_000);

    expect(first?.usedAt).toBe(1_500);
    expect(again).toBeNull();
    expect(expired).toBeNull();
  });

  it('reports unreadable JSON in a row as StoreError naming the path and the record', () => {
    const path = freshPath();
    const store = openTracked(path);
    store.createStudy(makeStudyRecord());
    store.close();
    const raw = new Database(path);
    raw.prepare("UPDATE studies SET spec = '{not json' WHERE id = 'study-1'").run();
    raw.close();

    const reopened = openTracked(path);

    expect(() => reopened.getStudy('study-1')).toThrow(StoreError);
    expect(() => reopened.getStudy('study-1')).toThrow(`${path}: unreadable JSON in spec of study study-1`);
  });
});
