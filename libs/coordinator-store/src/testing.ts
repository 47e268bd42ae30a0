/**
 * Test support for the coordinator store: record fixtures and the contract suite every
 * {@link CoordinatorStore} implementation must pass (InMemoryStore, SQLite, later PostgreSQL).
 * Import from '@medfed/coordinator-store/testing' in specs only.
 */
import type { StudySpec } from '@medfed/protocol';
import type {
  ContributionRecord,
  CoordinatorStore,
  EnrolmentTokenRecord,
  ModelVersionRecord,
  NodeRecord,
  RoundRecord,
  SiteEventRecord,
  StudyRecord,
} from './coordinator-store.types';
import { DuplicateError, NotFoundError, StoreError } from './coordinator-store.errors';

/** A small valid study spec (logistic regression on Fed-Heart-Disease, 3 rounds). */
export function sampleStudySpec(overrides: Partial<StudySpec> = {}): StudySpec {
  return {
    name: 'heart-lr',
    dataset: 'fed-heart-disease',
    model: { family: 'logistic-regression', inputDim: 13 },
    training: { localSteps: 10, batchSize: 8, learningRate: 0.05, optimizer: 'sgd', l2: 0, proximalMu: 0 },
    strategy: 'fedavg',
    rounds: 3,
    minSites: 2,
    roundTimeoutSeconds: 60,
    seed: 42,
    ...overrides,
  };
}

/** An enrolled node with fixed keys; `id` defaults to 'a1b2c3d4e5f60718'. */
export function makeNodeRecord(overrides: Partial<NodeRecord> = {}): NodeRecord {
  const id = overrides.id ?? 'a1b2c3d4e5f60718';
  return {
    id,
    name: `hospital-${id.slice(0, 4)}`,
    signingPublicKey: `sign-${id}`,
    encryptionPublicKey: null,
    status: 'enrolled',
    enrolledAt: 1_700_000_000_000,
    lastSeenAt: null,
    ...overrides,
  };
}

/** An unused enrolment token valid from 1_700_000_000_000 for one hour. */
export function makeEnrolmentTokenRecord(overrides: Partial<EnrolmentTokenRecord> = {}): EnrolmentTokenRecord {
  return {
    tokenHash: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    name: 'hospital-new',
    createdAt: 1_700_000_000_000,
    expiresAt: 1_700_003_600_000,
    usedAt: null,
    usedByNodeId: null,
    ...overrides,
  };
}

/** A freshly created study with id 'study-1'. */
export function makeStudyRecord(overrides: Partial<StudyRecord> = {}): StudyRecord {
  return {
    id: 'study-1',
    spec: sampleStudySpec(),
    status: 'created',
    createdAt: 1_700_000_100_000,
    updatedAt: 1_700_000_100_000,
    currentRound: 0,
    latestModelVersion: null,
    failureReason: null,
    ...overrides,
  };
}

/** Train round 1 of 'study-1', collecting from model version 0. */
export function makeRoundRecord(overrides: Partial<RoundRecord> = {}): RoundRecord {
  return {
    studyId: 'study-1',
    round: 1,
    kind: 'train',
    state: 'collecting',
    modelVersionIn: 0,
    modelVersionOut: null,
    participants: ['a1b2c3d4e5f60718'],
    startedAt: 1_700_000_200_000,
    deadlineAt: 1_700_000_260_000,
    closedAt: null,
    failureReason: null,
    metrics: null,
    attempts: 1,
    ...overrides,
  };
}

/** A train contribution of node 'a1b2c3d4e5f60718' to round 1 of 'study-1' with a 4-byte payload. */
export function makeContributionRecord(overrides: Partial<ContributionRecord> = {}): ContributionRecord {
  return {
    studyId: 'study-1',
    round: 1,
    kind: 'train',
    nodeId: 'a1b2c3d4e5f60718',
    receivedAt: 1_700_000_230_000,
    frameBytes: 512,
    frameSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    numExamples: 120,
    payload: new Uint8Array([1, 2, 3, 250]),
    metrics: { loss: 0.61, steps: 10 },
    ...overrides,
  };
}

/** Initial model version 0 of 'study-1' with 8 bytes of weights. */
export function makeModelVersionRecord(overrides: Partial<ModelVersionRecord> = {}): ModelVersionRecord {
  return {
    studyId: 'study-1',
    version: 0,
    round: 0,
    createdAt: 1_700_000_150_000,
    weights: new Uint8Array([0, 1, 2, 3, 252, 253, 254, 255]),
    metrics: null,
    strategyState: null,
    ...overrides,
  };
}

/** A 'late' event from node 'a1b2c3d4e5f60718' about round 1 of 'study-1'. */
export function makeSiteEventRecord(overrides: Partial<SiteEventRecord> = {}): SiteEventRecord {
  return {
    at: 1_700_000_270_000,
    nodeId: 'a1b2c3d4e5f60718',
    kind: 'late',
    studyId: 'study-1',
    round: 1,
    detail: 'train result after the deadline',
    ...overrides,
  };
}

const NODE_A = 'a1b2c3d4e5f60718';
const NODE_B = 'b2c3d4e5f6071829';
const NODE_C = 'c3d4e5f607182930';

/**
 * Registers a jest `describe` block that checks `makeStore` against the {@link CoordinatorStore}
 * contract: field-for-field round trips, copies in and out, uniqueness (DuplicateError),
 * referential rules (NotFoundError), ordering, one-time tokens and all-or-nothing transactions.
 * @param name label of the implementation, e.g. 'InMemoryStore'.
 * @param makeStore returns a fresh, empty store for each test; the suite closes it afterwards.
 */
export function describeCoordinatorStoreContract(name: string, makeStore: () => CoordinatorStore): void {
  describe(`CoordinatorStore contract: ${name}`, () => {
    let store: CoordinatorStore;

    beforeEach(() => {
      store = makeStore();
    });

    afterEach(() => {
      store.close();
    });

    /** A study with a train round 1 and nodes A and B enrolled: the usual setting for contributions. */
    function seedRound(): void {
      store.upsertNode(makeNodeRecord({ id: NODE_A }));
      store.upsertNode(makeNodeRecord({ id: NODE_B }));
      store.createStudy(makeStudyRecord());
      store.createRound(makeRoundRecord({ participants: [NODE_A, NODE_B] }));
    }

    describe('nodes', () => {
      it('returns an upserted node field for field, and null for an unknown id', () => {
        const node = makeNodeRecord({ encryptionPublicKey: 'enc-key', lastSeenAt: 1_700_000_000_500 });

        store.upsertNode(node);

        expect(store.getNode(NODE_A)).toEqual({
          id: NODE_A,
          name: 'hospital-a1b2',
          signingPublicKey: `sign-${NODE_A}`,
          encryptionPublicKey: 'enc-key',
          status: 'enrolled',
          enrolledAt: 1_700_000_000_000,
          lastSeenAt: 1_700_000_000_500,
        });
        expect(store.getNode(NODE_B)).toBeNull();
      });

      it('replaces every field of an existing node on a second upsert', () => {
        store.upsertNode(makeNodeRecord({ encryptionPublicKey: 'enc-key', lastSeenAt: 5 }));

        store.upsertNode(makeNodeRecord({ name: 'renamed', status: 'revoked', encryptionPublicKey: null, lastSeenAt: null }));

        const node = store.getNode(NODE_A);
        expect(node?.name).toBe('renamed');
        expect(node?.status).toBe('revoked');
        expect(node?.encryptionPublicKey).toBeNull();
        expect(node?.lastSeenAt).toBeNull();
        expect(store.listNodes()).toHaveLength(1);
      });

      it('finds a node by its signing key', () => {
        store.upsertNode(makeNodeRecord({ id: NODE_A }));
        store.upsertNode(makeNodeRecord({ id: NODE_B }));

        const found = store.getNodeBySigningKey(`sign-${NODE_B}`);

        expect(found?.id).toBe(NODE_B);
        expect(store.getNodeBySigningKey('sign-nobody')).toBeNull();
      });

      it('refuses a second node with the same signing key and keeps the first', () => {
        store.upsertNode(makeNodeRecord({ id: NODE_A, signingPublicKey: 'shared-key' }));

        const act = (): void => store.upsertNode(makeNodeRecord({ id: NODE_B, signingPublicKey: 'shared-key' }));

        expect(act).toThrow(DuplicateError);
        expect(store.getNodeBySigningKey('shared-key')?.id).toBe(NODE_A);
        expect(store.getNode(NODE_B)).toBeNull();
      });

      it('lists nodes by enrolment time, then id', () => {
        store.upsertNode(makeNodeRecord({ id: NODE_C, enrolledAt: 100 }));
        store.upsertNode(makeNodeRecord({ id: NODE_B, enrolledAt: 200 }));
        store.upsertNode(makeNodeRecord({ id: NODE_A, enrolledAt: 200 }));

        const ids = store.listNodes().map((n) => n.id);

        expect(ids).toEqual([NODE_C, NODE_A, NODE_B]);
      });

      it('touchNode sets lastSeenAt, and the encryption key only when one is given', () => {
        store.upsertNode(makeNodeRecord({ encryptionPublicKey: 'old-enc' }));

        store.touchNode(NODE_A, 1_000);
        const afterPlainTouch = store.getNode(NODE_A);
        store.touchNode(NODE_A, 2_000, 'new-enc');
        const afterKeyTouch = store.getNode(NODE_A);

        expect(afterPlainTouch?.lastSeenAt).toBe(1_000);
        expect(afterPlainTouch?.encryptionPublicKey).toBe('old-enc');
        expect(afterKeyTouch?.lastSeenAt).toBe(2_000);
        expect(afterKeyTouch?.encryptionPublicKey).toBe('new-enc');
      });

      it('touchNode throws NotFoundError for an unknown node', () => {
        expect(() => store.touchNode(NODE_B, 1_000)).toThrow(NotFoundError);
      });

      it('returns copies: mutating a returned node does not change the stored one', () => {
        store.upsertNode(makeNodeRecord());

        const first = store.getNode(NODE_A) as NodeRecord;
        first.name = 'mutated';

        expect(store.getNode(NODE_A)?.name).toBe('hospital-a1b2');
      });
    });

    describe('enrolment tokens', () => {
      const hash = makeEnrolmentTokenRecord().tokenHash;
      const created = 1_700_000_000_000;
      const expires = 1_700_003_600_000;

      it('consumes an unused, unexpired token once and returns it marked as used', () => {
        store.addEnrolmentToken(makeEnrolmentTokenRecord());

        const first = store.consumeEnrolmentToken(hash, NODE_A, created + 10);
        const second = store.consumeEnrolmentToken(hash, NODE_B, created + 20);

        expect(first).toEqual({
          tokenHash: hash,
          name: 'hospital-new',
          createdAt: created,
          expiresAt: expires,
          usedAt: created + 10,
          usedByNodeId: NODE_A,
        });
        expect(second).toBeNull();
      });

      it('refuses a token at its expiry instant, accepts it one millisecond before', () => {
        store.addEnrolmentToken(makeEnrolmentTokenRecord({ tokenHash: 'aa'.repeat(32) }));
        store.addEnrolmentToken(makeEnrolmentTokenRecord({ tokenHash: 'bb'.repeat(32) }));

        const atExpiry = store.consumeEnrolmentToken('aa'.repeat(32), NODE_A, expires);
        const justBefore = store.consumeEnrolmentToken('bb'.repeat(32), NODE_A, expires - 1);

        expect(atExpiry).toBeNull();
        expect(justBefore?.usedAt).toBe(expires - 1);
      });

      it('an expired attempt does not use the token up', () => {
        store.addEnrolmentToken(makeEnrolmentTokenRecord({ expiresAt: 500, createdAt: 0 }));

        const late = store.consumeEnrolmentToken(hash, NODE_A, 600);
        const early = store.consumeEnrolmentToken(hash, NODE_A, 400);

        expect(late).toBeNull();
        expect(early?.usedByNodeId).toBe(NODE_A);
      });

      it('returns null for an unknown token', () => {
        expect(store.consumeEnrolmentToken('cc'.repeat(32), NODE_A, created)).toBeNull();
      });

      it('refuses a token that was stored already used', () => {
        store.addEnrolmentToken(makeEnrolmentTokenRecord({ usedAt: created + 1, usedByNodeId: NODE_C }));

        expect(store.consumeEnrolmentToken(hash, NODE_A, created + 2)).toBeNull();
      });

      it('throws DuplicateError for a second token with the same hash', () => {
        store.addEnrolmentToken(makeEnrolmentTokenRecord());

        expect(() => store.addEnrolmentToken(makeEnrolmentTokenRecord({ name: 'other' }))).toThrow(DuplicateError);
      });
    });

    describe('studies', () => {
      it('returns a created study with its spec intact, and null for an unknown id', () => {
        store.createStudy(makeStudyRecord());

        const study = store.getStudy('study-1');

        expect(study).toEqual(makeStudyRecord());
        expect(study?.spec.model).toEqual({ family: 'logistic-regression', inputDim: 13 });
        expect(study?.spec.training.learningRate).toBe(0.05);
        expect(store.getStudy('study-2')).toBeNull();
      });

      it('throws DuplicateError on an id clash and keeps the first study', () => {
        store.createStudy(makeStudyRecord());

        const act = (): void => store.createStudy(makeStudyRecord({ status: 'running' }));

        expect(act).toThrow(DuplicateError);
        expect(store.getStudy('study-1')?.status).toBe('created');
      });

      it('updateStudy applies the defined fields, keeps the rest and returns the stored record', () => {
        store.createStudy(makeStudyRecord({ failureReason: 'old' }));

        const updated = store.updateStudy('study-1', {
          status: 'running',
          currentRound: 2,
          latestModelVersion: 1,
          failureReason: null,
          updatedAt: 1_700_000_900_000,
          status2: 'ignored',
        } as Parameters<CoordinatorStore['updateStudy']>[1]);

        const expected: StudyRecord = {
          ...makeStudyRecord(),
          status: 'running',
          currentRound: 2,
          latestModelVersion: 1,
          failureReason: null,
          updatedAt: 1_700_000_900_000,
        };
        expect(updated).toEqual(expected);
        expect(store.getStudy('study-1')).toEqual(expected);
      });

      it('updateStudy leaves fields given as undefined alone and never changes id, spec or createdAt', () => {
        store.createStudy(makeStudyRecord({ latestModelVersion: 3 }));

        const sneaky = { latestModelVersion: undefined, id: 'hijack', createdAt: 1, spec: sampleStudySpec({ rounds: 99 }) };
        const updated = store.updateStudy('study-1', sneaky as Parameters<CoordinatorStore['updateStudy']>[1]);

        expect(updated).toEqual(makeStudyRecord({ latestModelVersion: 3 }));
        expect(store.getStudy('hijack')).toBeNull();
      });

      it('updateStudy throws NotFoundError for an unknown study', () => {
        expect(() => store.updateStudy('nope', { status: 'running' })).toThrow(NotFoundError);
      });

      it('lists studies by creation time, then id', () => {
        store.createStudy(makeStudyRecord({ id: 's-c', createdAt: 30 }));
        store.createStudy(makeStudyRecord({ id: 's-b', createdAt: 10 }));
        store.createStudy(makeStudyRecord({ id: 's-a', createdAt: 30 }));

        expect(store.listStudies().map((s) => s.id)).toEqual(['s-b', 's-a', 's-c']);
      });

      it('returns copies: mutating a returned spec does not change the stored study', () => {
        store.createStudy(makeStudyRecord());

        const study = store.getStudy('study-1') as StudyRecord;
        study.spec.model.inputDim = 999;

        expect(store.getStudy('study-1')?.spec.model.inputDim).toBe(13);
      });
    });

    describe('rounds', () => {
      beforeEach(() => {
        store.createStudy(makeStudyRecord());
      });

      it('returns a created round field for field, and null for an unknown key', () => {
        const round = makeRoundRecord({ participants: [NODE_A, NODE_B], metrics: { planned: 2 } });

        store.createRound(round);

        expect(store.getRound('study-1', 1, 'train')).toEqual(round);
        expect(store.getRound('study-1', 1, 'evaluate')).toBeNull();
        expect(store.getRound('study-1', 2, 'train')).toBeNull();
      });

      it('throws DuplicateError on the same (study, round, kind) but allows the other kind', () => {
        store.createRound(makeRoundRecord());

        const duplicate = (): void => store.createRound(makeRoundRecord({ state: 'failed' }));
        store.createRound(makeRoundRecord({ kind: 'evaluate' }));

        expect(duplicate).toThrow(DuplicateError);
        expect(store.getRound('study-1', 1, 'train')?.state).toBe('collecting');
        expect(store.getRound('study-1', 1, 'evaluate')).not.toBeNull();
      });

      it('throws NotFoundError for a round of an unknown study', () => {
        expect(() => store.createRound(makeRoundRecord({ studyId: 'nope' }))).toThrow(NotFoundError);
      });

      it("lists a study's rounds by round, train before evaluate, and no other study's", () => {
        store.createStudy(makeStudyRecord({ id: 'study-2' }));
        store.createRound(makeRoundRecord({ round: 2, kind: 'evaluate' }));
        store.createRound(makeRoundRecord({ round: 10, kind: 'train' }));
        store.createRound(makeRoundRecord({ round: 2, kind: 'train' }));
        store.createRound(makeRoundRecord({ round: 1, kind: 'evaluate' }));
        store.createRound(makeRoundRecord({ round: 1, kind: 'train' }));
        store.createRound(makeRoundRecord({ studyId: 'study-2', round: 1 }));

        const keys = store.listRounds('study-1').map((r) => `${r.round}:${r.kind}`);

        expect(keys).toEqual(['1:train', '1:evaluate', '2:train', '2:evaluate', '10:train']);
      });

      it('updateRound applies the defined fields, keeps the rest and returns the stored record', () => {
        store.createRound(makeRoundRecord({ participants: [NODE_A, NODE_B] }));

        const updated = store.updateRound('study-1', 1, 'train', {
          state: 'completed',
          modelVersionOut: 1,
          closedAt: 1_700_000_250_000,
          metrics: { loss: 0.5, sites: 2 },
          participants: [NODE_A],
          deadlineAt: 1_700_000_300_000,
        });

        const expected = makeRoundRecord({
          state: 'completed',
          modelVersionOut: 1,
          closedAt: 1_700_000_250_000,
          metrics: { loss: 0.5, sites: 2 },
          participants: [NODE_A],
          deadlineAt: 1_700_000_300_000,
        });
        expect(updated).toEqual(expected);
        expect(store.getRound('study-1', 1, 'train')).toEqual(expected);
      });

      it('updateRound can set nullable fields back to null', () => {
        store.createRound(makeRoundRecord({ failureReason: 'quorum', metrics: { a: 1 }, modelVersionOut: 4 }));

        const updated = store.updateRound('study-1', 1, 'train', { failureReason: null, metrics: null, modelVersionOut: null });

        expect(updated.failureReason).toBeNull();
        expect(updated.metrics).toBeNull();
        expect(updated.modelVersionOut).toBeNull();
      });

      it('updateRound throws NotFoundError for an unknown round', () => {
        expect(() => store.updateRound('study-1', 7, 'train', { state: 'failed' })).toThrow(NotFoundError);
      });

      it('stores metrics as JSON: non-finite numbers come back as null', () => {
        store.createRound(makeRoundRecord({ metrics: { auc: Number.NaN, loss: Number.POSITIVE_INFINITY, n: 3 } }));

        expect(store.getRound('study-1', 1, 'train')?.metrics).toEqual({ auc: null, loss: null, n: 3 });
      });
    });

    describe('contributions', () => {
      beforeEach(seedRound);

      it('lists a round’s contributions by receivedAt with payloads intact, and nothing of other rounds', () => {
        store.createRound(makeRoundRecord({ kind: 'evaluate' }));
        store.addContribution(makeContributionRecord({ nodeId: NODE_B, receivedAt: 300, payload: new Uint8Array([9, 8]) }));
        store.addContribution(makeContributionRecord({ nodeId: NODE_A, receivedAt: 100 }));
        store.addContribution(makeContributionRecord({ nodeId: NODE_A, kind: 'evaluate', payload: null }));

        const train = store.listContributions('study-1', 1, 'train');

        expect(train.map((c) => c.nodeId)).toEqual([NODE_A, NODE_B]);
        expect(train[0]).toEqual(makeContributionRecord({ nodeId: NODE_A, receivedAt: 100 }));
        expect(Array.from(train[0].payload ?? [])).toEqual([1, 2, 3, 250]);
        expect(Array.from(train[1].payload ?? [])).toEqual([9, 8]);
        expect(store.listContributions('study-1', 1, 'evaluate')).toEqual([
          makeContributionRecord({ nodeId: NODE_A, kind: 'evaluate', payload: null }),
        ]);
        expect(store.listContributions('study-1', 2, 'train')).toEqual([]);
      });

      it('keeps arrival order for contributions received in the same millisecond', () => {
        store.addContribution(makeContributionRecord({ nodeId: NODE_B, receivedAt: 100 }));
        store.addContribution(makeContributionRecord({ nodeId: NODE_A, receivedAt: 100 }));

        expect(store.listContributions('study-1', 1, 'train').map((c) => c.nodeId)).toEqual([NODE_B, NODE_A]);
      });

      it('throws DuplicateError for a second contribution of the same node and keeps the first', () => {
        store.addContribution(makeContributionRecord({ numExamples: 120 }));

        const act = (): void => store.addContribution(makeContributionRecord({ numExamples: 999, receivedAt: 1 }));

        expect(act).toThrow(DuplicateError);
        const stored = store.listContributions('study-1', 1, 'train');
        expect(stored).toHaveLength(1);
        expect(stored[0].numExamples).toBe(120);
      });

      it('throws NotFoundError for an unknown round or an unknown node', () => {
        const unknownRound = (): void => store.addContribution(makeContributionRecord({ round: 2 }));
        const unknownNode = (): void => store.addContribution(makeContributionRecord({ nodeId: NODE_C }));

        expect(unknownRound).toThrow(NotFoundError);
        expect(unknownNode).toThrow(NotFoundError);
      });

      it('copies payloads in and out, as plain Uint8Arrays', () => {
        const payload = new Uint8Array([5, 6, 7]);
        store.addContribution(makeContributionRecord({ payload }));

        payload[0] = 0;
        const first = store.listContributions('study-1', 1, 'train')[0];
        (first.payload as Uint8Array)[1] = 0;
        const second = store.listContributions('study-1', 1, 'train')[0];

        expect(first.payload?.constructor).toBe(Uint8Array);
        expect(Array.from(second.payload ?? [])).toEqual([5, 6, 7]);
      });

      it('round-trips an empty payload as an empty array, not null', () => {
        store.addContribution(makeContributionRecord({ payload: new Uint8Array(0) }));

        const [c] = store.listContributions('study-1', 1, 'train');

        expect(c.payload).toEqual(new Uint8Array(0));
      });

      it('stores a payload given as a view into a larger buffer, not the whole buffer', () => {
        const backing = new Uint8Array([0, 0, 11, 12, 13, 0]);

        store.addContribution(makeContributionRecord({ payload: backing.subarray(2, 5) }));

        expect(Array.from(store.listContributions('study-1', 1, 'train')[0].payload ?? [])).toEqual([11, 12, 13]);
      });
    });

    describe('model versions', () => {
      beforeEach(() => {
        store.createStudy(makeStudyRecord());
      });

      it('returns a saved model version with its weights, and null for an unknown version', () => {
        store.saveModelVersion(makeModelVersionRecord({ metrics: { auc: 0.8 } }));

        const model = store.getModelVersion('study-1', 0);

        expect(model).toEqual(makeModelVersionRecord({ metrics: { auc: 0.8 } }));
        expect(Array.from(model?.weights ?? [])).toEqual([0, 1, 2, 3, 252, 253, 254, 255]);
        expect(model?.weights.constructor).toBe(Uint8Array);
        expect(store.getModelVersion('study-1', 1)).toBeNull();
      });

      it('lists versions in order without their weights', () => {
        store.saveModelVersion(makeModelVersionRecord({ version: 2, round: 2, createdAt: 30 }));
        store.saveModelVersion(makeModelVersionRecord({ version: 0, round: 0, createdAt: 10 }));
        store.saveModelVersion(makeModelVersionRecord({ version: 1, round: 1, createdAt: 20, metrics: { loss: 0.4 } }));

        const listed = store.listModelVersions('study-1');

        expect(listed).toEqual([
          { studyId: 'study-1', version: 0, round: 0, createdAt: 10, metrics: null },
          { studyId: 'study-1', version: 1, round: 1, createdAt: 20, metrics: { loss: 0.4 } },
          { studyId: 'study-1', version: 2, round: 2, createdAt: 30, metrics: null },
        ]);
        expect(listed.some((m) => 'weights' in m)).toBe(false);
        expect(store.listModelVersions('study-2')).toEqual([]);
      });

      it('throws DuplicateError on (study, version) and keeps the first weights', () => {
        store.saveModelVersion(makeModelVersionRecord());

        const act = (): void => store.saveModelVersion(makeModelVersionRecord({ weights: new Uint8Array([7]) }));

        expect(act).toThrow(DuplicateError);
        expect(store.getModelVersion('study-1', 0)?.weights.length).toBe(8);
      });

      it('throws NotFoundError for a model version of an unknown study', () => {
        expect(() => store.saveModelVersion(makeModelVersionRecord({ studyId: 'nope' }))).toThrow(NotFoundError);
      });

      it('copies weights in and out', () => {
        const weights = new Uint8Array([1, 2, 3]);
        store.saveModelVersion(makeModelVersionRecord({ weights }));

        weights[0] = 0;
        (store.getModelVersion('study-1', 0) as ModelVersionRecord).weights[1] = 0;

        expect(Array.from(store.getModelVersion('study-1', 0)?.weights ?? [])).toEqual([1, 2, 3]);
      });
    });

    describe('site events', () => {
      it('assigns increasing ids and lists the most recent first', () => {
        store.addSiteEvent(makeSiteEventRecord({ at: 100, kind: 'rejected', id: 999 }));
        store.addSiteEvent(makeSiteEventRecord({ at: 300, kind: 'late' }));
        store.addSiteEvent(makeSiteEventRecord({ at: 200, kind: 'declined' }));

        const events = store.listSiteEvents();

        expect(events.map((e) => e.kind)).toEqual(['late', 'declined', 'rejected']);
        const ids = events.map((e) => e.id as number);
        expect(ids[2]).toBeLessThan(ids[0]);
        expect(ids[0]).toBeLessThan(ids[1]);
        expect(events[0]).toEqual({ ...makeSiteEventRecord({ at: 300, kind: 'late' }), id: ids[0] });
      });

      it('breaks ties on time by insertion order, newest first', () => {
        store.addSiteEvent(makeSiteEventRecord({ at: 100, detail: 'first' }));
        store.addSiteEvent(makeSiteEventRecord({ at: 100, detail: 'second' }));

        expect(store.listSiteEvents().map((e) => e.detail)).toEqual(['second', 'first']);
      });

      it('filters by node and by study, and keeps events without node or study', () => {
        store.addSiteEvent(makeSiteEventRecord({ at: 1, nodeId: NODE_A, studyId: 'study-1' }));
        store.addSiteEvent(makeSiteEventRecord({ at: 2, nodeId: NODE_B, studyId: 'study-1' }));
        store.addSiteEvent(makeSiteEventRecord({ at: 3, nodeId: NODE_A, studyId: 'study-2' }));
        store.addSiteEvent(makeSiteEventRecord({ at: 4, nodeId: null, studyId: null, round: null, kind: 'rejected' }));

        const byNode = store.listSiteEvents({ nodeId: NODE_A }).map((e) => e.at);
        const byStudy = store.listSiteEvents({ studyId: 'study-1' }).map((e) => e.at);
        const both = store.listSiteEvents({ nodeId: NODE_A, studyId: 'study-1' }).map((e) => e.at);
        const all = store.listSiteEvents();

        expect(byNode).toEqual([3, 1]);
        expect(byStudy).toEqual([2, 1]);
        expect(both).toEqual([1]);
        expect(all[0]).toMatchObject({ at: 4, nodeId: null, studyId: null, round: null, kind: 'rejected' });
      });

      it('returns at most `limit` events, the most recent ones', () => {
        for (const at of [10, 40, 20, 30]) store.addSiteEvent(makeSiteEventRecord({ at }));

        expect(store.listSiteEvents({ limit: 2 }).map((e) => e.at)).toEqual([40, 30]);
        expect(store.listSiteEvents({ limit: 0 })).toEqual([]);
      });

      it('throws StoreError for a negative or fractional limit', () => {
        expect(() => store.listSiteEvents({ limit: -1 })).toThrow(StoreError);
        expect(() => store.listSiteEvents({ limit: 1.5 })).toThrow(StoreError);
      });
    });

    describe('transactions', () => {
      it("commits the body's writes and returns its value", () => {
        const result = store.transaction(() => {
          store.createStudy(makeStudyRecord());
          store.createRound(makeRoundRecord());
          return 'done';
        });

        expect(result).toBe('done');
        expect(store.getRound('study-1', 1, 'train')).not.toBeNull();
      });

      it('leaves nothing behind when the body throws, and rethrows the same error', () => {
        store.upsertNode(makeNodeRecord());
        const boom = new Error('boom');

        const act = (): void =>
          store.transaction(() => {
            store.createStudy(makeStudyRecord());
            store.createRound(makeRoundRecord());
            store.addContribution(makeContributionRecord());
            store.saveModelVersion(makeModelVersionRecord());
            store.touchNode(NODE_A, 9_999);
            store.addSiteEvent(makeSiteEventRecord());
            throw boom;
          });

        expect(act).toThrow(boom);
        expect(store.getStudy('study-1')).toBeNull();
        expect(store.listStudies()).toEqual([]);
        expect(store.listContributions('study-1', 1, 'train')).toEqual([]);
        expect(store.getModelVersion('study-1', 0)).toBeNull();
        expect(store.getNode(NODE_A)?.lastSeenAt).toBeNull();
        expect(store.listSiteEvents()).toEqual([]);
      });

      it('a rolled-back token consumption leaves the token usable', () => {
        const token = makeEnrolmentTokenRecord();
        store.addEnrolmentToken(token);

        const act = (): void =>
          store.transaction(() => {
            store.consumeEnrolmentToken(token.tokenHash, NODE_A, token.createdAt + 1);
            store.upsertNode(makeNodeRecord({ id: NODE_A, signingPublicKey: 'k' }));
            store.upsertNode(makeNodeRecord({ id: NODE_B, signingPublicKey: 'k' }));
          });

        expect(act).toThrow(DuplicateError);
        expect(store.getNode(NODE_A)).toBeNull();
        expect(store.consumeEnrolmentToken(token.tokenHash, NODE_C, token.createdAt + 2)?.usedByNodeId).toBe(NODE_C);
      });

      it('a failed inner transaction rolls back only its own writes', () => {
        store.transaction(() => {
          store.createStudy(makeStudyRecord({ id: 'outer' }));
          try {
            store.transaction(() => {
              store.createStudy(makeStudyRecord({ id: 'inner' }));
              throw new Error('inner failure');
            });
          } catch (err) {
            // The outer body decides to carry on; only the inner writes must be gone.
            expect((err as Error).message).toBe('inner failure');
          }
        });

        expect(store.listStudies().map((s) => s.id)).toEqual(['outer']);
      });

      it('refuses an asynchronous body with StoreError and rolls it back', () => {
        const act = (): Promise<void> =>
          store.transaction(() => {
            store.createStudy(makeStudyRecord());
            return Promise.resolve();
          });

        expect(act).toThrow(StoreError);
        expect(store.getStudy('study-1')).toBeNull();
      });
    });

    describe('close', () => {
      it('makes later calls throw StoreError, and may be called twice', () => {
        store.close();

        expect(() => store.listNodes()).toThrow(StoreError);
        expect(() => store.close()).not.toThrow();
      });
    });
  });
}
