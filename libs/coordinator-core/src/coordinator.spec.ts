import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EvaluateResultBody,
  Events,
  MessageKind,
  ReceiptBody,
  TrainResultBody,
  TrainTaskBody,
  WeightTensor,
  decodeTensors,
} from '@medfed/protocol';
import { generateIdentity } from '@medfed/crypto';
import { craftFrame } from '@medfed/protocol/testing';
import { MemoryAuditSink } from '@medfed/audit/testing';
import { CoordinatorStore, InMemoryStore, openSqliteStore } from '@medfed/coordinator-store';
import { Coordinator } from './coordinator';
import { MemoryLogger } from './coordinator-logger';
import { EvaluationMetrics } from './round-metrics';
import { RecordingConnections, TestSite, tinyInitialWeights, tinyStudySpec } from './testing';
import { waitForEngineEvent } from './testing-federation';

const coordinatorIdentity = generateIdentity();

function makeCoordinator(store: CoordinatorStore = new InMemoryStore()) {
  const connections = new RecordingConnections();
  const logger = new MemoryLogger();
  const audit = new MemoryAuditSink();
  const coordinator = new Coordinator({
    store,
    identity: coordinatorIdentity,
    connections,
    logger,
    audit,
    maxFrameBytes: 1 << 20,
    initialWeights: () => tinyInitialWeights(),
    dispatchRetryMs: 10,
  });
  return { coordinator, connections, logger, store, audit };
}

function enrolAndConnect(coordinator: Coordinator, connections: RecordingConnections, ...names: string[]): TestSite[] {
  return names.map((name) => {
    const site = new TestSite(name, coordinatorIdentity, connections);
    coordinator.enrolment.enrol({ name, signingPublicKey: site.signingPublicKey });
    coordinator.frames.handle(site.ctx, Events.Hello, site.hello());
    return site;
  });
}

const waitFor = waitForEngineEvent;

const delta = (k0: number, k1: number, b: number): WeightTensor[] => [
  { shape: [2, 1], data: new Float32Array([k0, k1]) },
  { shape: [1], data: new Float32Array([b]) },
];

function trainResult(site: TestSite, task: TrainTaskBody, numExamples: number, d: WeightTensor[]): Buffer {
  return site.frame<TrainResultBody>(
    MessageKind.TrainResult,
    { studyId: task.studyId, round: task.round, modelVersion: task.modelVersion, numExamples, meanLoss: 0.5, durationMs: 1, backend: 'cpu' },
    d,
  );
}

function latestTask(site: TestSite, connections: RecordingConnections): TrainTaskBody {
  const frames = connections.to(site.nodeId as string, Events.TrainTask);
  return site.open<TrainTaskBody>(frames[frames.length - 1]).body;
}

describe('Coordinator rounds', () => {
  it('runs a study end to end: sealed tasks, FedAvg weighted by examples, evaluation from counts', async () => {
    // Arrange
    const { coordinator, connections, audit } = makeCoordinator();
    const [a, b] = enrolAndConnect(coordinator, connections, 'alpha', 'beta');
    const study = coordinator.studies.create(tinyStudySpec({ rounds: 1 }));

    // Act: launch; both sites receive round 1 with the version-0 weights
    coordinator.studies.launch(study.id);
    const opened = a.open<TrainTaskBody>(connections.to(a.nodeId as string, Events.TrainTask)[0]);
    const taskA = opened.body;
    expect(opened.header.sealed).toBe(true);
    expect(opened.tensors.map((t) => Array.from(t.data))).toEqual([[0, 0], [0]]);
    expect(taskA).toMatchObject({ studyId: study.id, round: 1, modelVersion: 0 });

    const trained = waitFor(coordinator, (e) => e.type === 'round-completed' && e.kind === 'train');
    coordinator.frames.handle(a.ctx, Events.TrainResult, trainResult(a, taskA, 30, delta(1, 2, 3)));
    coordinator.frames.handle(b.ctx, Events.TrainResult, trainResult(b, latestTask(b, connections), 10, delta(5, 6, 7)));
    await trained;

    // Assert: version 1 = 0 + (30·Δa + 10·Δb) / 40, computed by hand
    const v1 = coordinator.store.getModelVersion(study.id, 1);
    expect(v1).not.toBeNull();
    const weights = decodeTensors(v1!.weights);
    expect(Array.from(weights[0].data)).toEqual([2, 3]);
    expect(Array.from(weights[1].data)).toEqual([4]);
    // each site got a signed receipt naming the exact frame
    const receipt = a.open<ReceiptBody>(connections.to(a.nodeId as string, Events.Receipt)[0]).body;
    expect(receipt).toMatchObject({ studyId: study.id, round: 1, numExamples: 30 });
    expect(receipt.frameSha256).toMatch(/^[0-9a-f]{64}$/);

    // Evaluation round sends version 1; counts are combined into per-site and pooled accuracy
    const evalTaskFrame = connections.to(a.nodeId as string, Events.EvaluateTask)[0];
    const evalTask = a.open<{ studyId: string; round: number; modelVersion: number }>(evalTaskFrame);
    expect(evalTask.body.modelVersion).toBe(1);
    expect(Array.from(evalTask.tensors[0].data)).toEqual([2, 3]);
    const completed = waitFor(coordinator, (e) => e.type === 'study-completed');
    const evaluated = waitFor(coordinator, (e) => e.type === 'round-completed' && e.kind === 'evaluate');
    const counts = (tp: number, fp: number, tn: number, fn: number) => ({ numExamples: tp + fp + tn + fn, numCorrect: tp + tn, lossSum: 1, truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn });
    const evalBody = (site: TestSite, c: ReturnType<typeof counts>): Buffer =>
      site.frame<EvaluateResultBody>(MessageKind.EvaluateResult, { studyId: study.id, round: 1, modelVersion: 1, suppressed: false, ...c });
    coordinator.frames.handle(a.ctx, Events.EvaluateResult, evalBody(a, counts(6, 1, 2, 1))); // 8/10
    coordinator.frames.handle(b.ctx, Events.EvaluateResult, evalBody(b, counts(10, 5, 5, 10))); // 15/30
    const metrics = (await evaluated as { metrics: unknown }).metrics as EvaluationMetrics;
    await completed;
    expect(metrics.pooledAccuracy).toBeCloseTo(23 / 40, 12);
    expect(metrics.meanSiteAccuracy).toBeCloseTo((0.8 + 0.5) / 2, 12);
    expect(metrics.worstSite).toMatchObject({ name: 'beta', accuracy: 0.5 });
    expect(coordinator.store.getStudy(study.id)?.status).toBe('completed');
    // The coordinator's audit record: enrolments, each accepted contribution with its frame hash, the saved model.
    const events = audit.entries.map((e) => e.event);
    expect(events.filter((e) => e === 'enrolment')).toHaveLength(2);
    expect(events.filter((e) => e === 'contribution.accepted')).toHaveLength(4);
    const accepted = audit.entries.find((e) => e.event === 'contribution.accepted' && e.details['nodeId'] === a.nodeId);
    expect(accepted?.details).toMatchObject({ kind: 'train-result', round: 1, sha256: receipt.frameSha256, numExamples: 30 });
    expect(audit.entries.find((e) => e.event === 'model.saved')?.details).toMatchObject({ studyId: study.id, version: 1, contributors: [a.nodeId, b.nodeId] });
    coordinator.shutdown();
  });

  it('refuses bad input with a named code, records it, and keeps the round going', async () => {
    const { coordinator, connections, logger } = makeCoordinator();
    const [a, b] = enrolAndConnect(coordinator, connections, 'alpha', 'beta');
    const study = coordinator.studies.create(tinyStudySpec({ rounds: 1 }));
    coordinator.studies.launch(study.id);
    const task = latestTask(a, connections);

    // a NaN in the update (crafted: our own encoder refuses to produce it)
    const nanFrame = craftFrame({
      sender: a.identity,
      recipient: { signingPublicKey: coordinatorIdentity.signing.publicKey, encryptionPublicKey: coordinatorIdentity.encryption.publicKey },
      kind: MessageKind.TrainResult,
      body: { studyId: task.studyId, round: task.round, modelVersion: task.modelVersion, numExamples: 10, meanLoss: 0.5, durationMs: 1, backend: 'cpu' },
      tensors: delta(Number.NaN, 0, 0),
    });
    coordinator.frames.handle(a.ctx, Events.TrainResult, nanFrame);
    // a wrong shape
    coordinator.frames.handle(a.ctx, Events.TrainResult, trainResult(a, task, 10, [{ shape: [3], data: new Float32Array(3) }]));
    // a wrong round
    coordinator.frames.handle(a.ctx, Events.TrainResult, trainResult(a, { ...task, round: 7 }, 10, delta(0, 0, 0)));
    // garbage bytes and a string
    coordinator.frames.handle(a.ctx, Events.TrainResult, Buffer.from('not a frame at all, just text'));
    coordinator.frames.handle(a.ctx, Events.TrainResult, 'hello');
    // a valid update, then the very same frame replayed, then a second, fresh update
    const good = trainResult(a, task, 10, delta(1, 1, 1));
    coordinator.frames.handle(a.ctx, Events.TrainResult, good);
    coordinator.frames.handle(a.ctx, Events.TrainResult, good);
    coordinator.frames.handle(a.ctx, Events.TrainResult, trainResult(a, task, 10, delta(9, 9, 9)));

    expect(a.refusals(connections)).toEqual(['NON_FINITE', 'SHAPE_MISMATCH', 'WRONG_ROUND', 'MALFORMED', 'MALFORMED', 'REPLAYED', 'DUPLICATE_CONTRIBUTION']);
    // Each refusal is logged and recorded as a site event; the accepted contribution is intact.
    expect(logger.lines.filter((l) => l.event === 'message.rejected')).toHaveLength(7);
    expect(coordinator.store.listSiteEvents({ nodeId: a.nodeId as string }).filter((e) => e.kind === 'rejected')).toHaveLength(7);
    const contributions = coordinator.store.listContributions(study.id, 1, 'train');
    expect(contributions.map((c) => c.nodeId)).toEqual([a.nodeId]);
    expect(Array.from(decodeTensors(contributions[0].payload!)[0].data)).toEqual([1, 1]);

    // b's update still closes the round normally
    const trained = waitFor(coordinator, (e) => e.type === 'round-completed' && e.kind === 'train');
    coordinator.frames.handle(b.ctx, Events.TrainResult, trainResult(b, latestTask(b, connections), 10, delta(3, 3, 3)));
    await trained;
    expect(Array.from(decodeTensors(coordinator.store.getModelVersion(study.id, 1)!.weights)[0].data)).toEqual([2, 2]);
    coordinator.shutdown();
  });

  it('refuses unenrolled keys, frames before Hello, and revoked nodes', () => {
    const { coordinator, connections } = makeCoordinator();
    const stranger = new TestSite('stranger', coordinatorIdentity, connections);
    coordinator.frames.handle(stranger.ctx, Events.Hello, stranger.hello());
    coordinator.frames.handle(stranger.ctx, Events.TrainResult, stranger.frame(MessageKind.TaskDeclined, { studyId: 's', round: 1, reason: 'busy' }));
    expect(stranger.refusals(connections)).toEqual(['NOT_ENROLLED', 'NOT_AUTHENTICATED']);
    expect(stranger.nodeId).toBeNull();

    const [a] = enrolAndConnect(coordinator, connections, 'alpha');
    coordinator.enrolment.revoke(a.nodeId as string);
    coordinator.frames.handle(a.ctx, Events.TaskDeclined, a.frame(MessageKind.TaskDeclined, { studyId: 's', round: 1, reason: 'busy' }));
    expect(a.refusals(connections)).toEqual(['NOT_ENROLLED']);
    coordinator.shutdown();
  });

  it('enrols a key that presents a one-time token, once only', () => {
    const { coordinator, connections, store } = makeCoordinator();
    const { token } = coordinator.enrolment.createToken('hungarian', 3600);
    const first = new TestSite('hungarian', coordinatorIdentity, connections);
    coordinator.frames.handle(first.ctx, Events.Hello, first.hello(token));
    expect(first.nodeId).not.toBeNull();
    expect(store.getNode(first.nodeId as string)).toMatchObject({ name: 'hungarian', status: 'enrolled', encryptionPublicKey: first.encryptionPublicKey });
    // The same token from another key is spent: refused.
    const second = new TestSite('copycat', coordinatorIdentity, connections);
    coordinator.frames.handle(second.ctx, Events.Hello, second.hello(token));
    expect(second.refusals(connections)).toEqual(['NOT_ENROLLED']);
    expect(store.listNodes().map((n) => n.name)).toEqual(['hungarian']);
    coordinator.shutdown();
  });

  it('closes a round at its deadline without the silent site, and fails the study below minSites', async () => {
    const { coordinator, connections } = makeCoordinator();
    const [a, b, c] = enrolAndConnect(coordinator, connections, 'alpha', 'beta', 'gamma');
    const study = coordinator.studies.create(tinyStudySpec({ rounds: 2, minSites: 2, roundTimeoutSeconds: 1 }));
    coordinator.studies.launch(study.id);
    const trained = waitFor(coordinator, (e) => e.type === 'round-completed' && e.kind === 'train');
    coordinator.frames.handle(a.ctx, Events.TrainResult, trainResult(a, latestTask(a, connections), 10, delta(1, 1, 1)));
    coordinator.frames.handle(b.ctx, Events.TrainResult, trainResult(b, latestTask(b, connections), 30, delta(5, 5, 5)));
    await trained; // gamma stayed silent: closed at the deadline with 2 of 3
    expect(Array.from(decodeTensors(coordinator.store.getModelVersion(study.id, 1)!.weights)[0].data)).toEqual([4, 4]);
    // a late answer from gamma is refused and recorded
    coordinator.frames.handle(c.ctx, Events.TrainResult, trainResult(c, latestTask(c, connections), 10, delta(1, 1, 1)));
    expect(c.refusals(connections)).toEqual(['ROUND_CLOSED']);
    expect(coordinator.store.listSiteEvents({ nodeId: c.nodeId as string }).some((e) => e.kind === 'late')).toBe(true);

    // round 2: only one site answers, below minSites → the study fails with the reason
    const failed = waitFor(coordinator, (e) => e.type === 'study-failed', 8000);
    await waitFor(coordinator, (e) => e.type === 'round-started' && e.kind === 'train' && e.round === 2, 8000);
    coordinator.frames.handle(a.ctx, Events.TrainResult, trainResult(a, latestTask(a, connections), 10, delta(1, 1, 1)));
    const event = (await failed) as { reason: string };
    expect(event.reason).toContain('only 1 of the 2 sites');
    expect(coordinator.store.getStudy(study.id)).toMatchObject({ status: 'failed' });
    coordinator.shutdown();
  }, 15000);

  it('retries a train round that closed below minSites, keeping the answers it had', async () => {
    const { coordinator, connections, store } = makeCoordinator();
    const [a, b] = enrolAndConnect(coordinator, connections, 'alpha', 'beta');
    const study = coordinator.studies.create(tinyStudySpec({ rounds: 1, minSites: 2, roundTimeoutSeconds: 1, maxRoundRetries: 1 }));
    coordinator.studies.launch(study.id);
    const taskB = latestTask(b, connections);
    coordinator.frames.handle(a.ctx, Events.TrainResult, trainResult(a, latestTask(a, connections), 10, delta(2, 2, 2)));
    // beta misses the first deadline; the round is extended and beta is sent the task again
    const retried = await waitFor(coordinator, (e) => e.type === 'round-retried', 5000);
    expect(retried).toMatchObject({ round: 1, attempt: 2 });
    expect(connections.to(b.nodeId as string, Events.TrainTask)).toHaveLength(2);
    expect(connections.to(a.nodeId as string, Events.TrainTask)).toHaveLength(1);
    const trained = waitFor(coordinator, (e) => e.type === 'round-completed' && e.kind === 'train');
    coordinator.frames.handle(b.ctx, Events.TrainResult, trainResult(b, taskB, 30, delta(6, 6, 6)));
    await trained;
    expect(Array.from(decodeTensors(store.getModelVersion(study.id, 1)!.weights)[0].data)).toEqual([5, 5]);
    expect(store.getRound(study.id, 1, 'train')).toMatchObject({ attempts: 2, state: 'completed' });
    coordinator.shutdown();
  }, 10000);

  it('samples a seeded fraction of the connected sites for each train round and records it', () => {
    const { coordinator, connections, store } = makeCoordinator();
    enrolAndConnect(coordinator, connections, 's1', 's2', 's3', 's4', 's5', 's6');
    const study = coordinator.studies.create(tinyStudySpec({ rounds: 1, minSites: 2, siteFraction: 0.5 }));
    coordinator.studies.launch(study.id);
    const round = store.getRound(study.id, 1, 'train');
    expect(round?.participants).toHaveLength(3);
    const tasked = new Set(connections.sent.filter((x) => x.event === Events.TrainTask).map((x) => x.nodeId));
    expect([...tasked].sort()).toEqual(round?.participants);
    coordinator.shutdown();
  });

  it('stops, rolls back to an earlier version and resumes from it; the best version is marked', async () => {
    const { coordinator, connections, store } = makeCoordinator();
    const [a, b] = enrolAndConnect(coordinator, connections, 'alpha', 'beta');
    const study = coordinator.studies.create(tinyStudySpec({ rounds: 3 }));
    coordinator.studies.launch(study.id);
    const evaluated = waitFor(coordinator, (e) => e.type === 'round-completed' && e.kind === 'evaluate');
    const round2 = waitFor(coordinator, (e) => e.type === 'round-started' && e.kind === 'train' && e.round === 2);
    const evalStarted = waitFor(coordinator, (e) => e.type === 'round-started' && e.kind === 'evaluate');
    coordinator.frames.handle(a.ctx, Events.TrainResult, trainResult(a, latestTask(a, connections), 10, delta(1, 1, 1)));
    coordinator.frames.handle(b.ctx, Events.TrainResult, trainResult(b, latestTask(b, connections), 10, delta(1, 1, 1)));
    await evalStarted;
    const evalBody = (c: number) => ({ studyId: study.id, round: 1, modelVersion: 1, suppressed: false, numExamples: 10, numCorrect: c, lossSum: 10 - c, truePositives: c, falsePositives: 10 - c, trueNegatives: 0, falseNegatives: 0 });
    coordinator.frames.handle(a.ctx, Events.EvaluateResult, a.frame(MessageKind.EvaluateResult, evalBody(7)));
    coordinator.frames.handle(b.ctx, Events.EvaluateResult, b.frame(MessageKind.EvaluateResult, evalBody(9)));
    await evaluated;
    await round2;

    expect(() => coordinator.studies.rollback(study.id, 0)).toThrow('running');
    coordinator.studies.stop(study.id);
    coordinator.studies.rollback(study.id, 0);
    expect(store.getRound(study.id, 2, 'train')).toMatchObject({ state: 'failed' });
    const started = waitFor(coordinator, (e) => e.type === 'round-started' && e.kind === 'train');
    coordinator.studies.resume(study.id);
    expect(await started).toMatchObject({ round: 3 });
    expect(latestTask(a, connections)).toMatchObject({ round: 3, modelVersion: 0 });
    expect(coordinator.studies.status(study.id).bestModelVersion).toEqual({ version: 1, pooledMeanLoss: 0.2, pooledAccuracy: 0.8, selectionLoss: 0.2, selectedOn: 'test' });
    coordinator.shutdown();
  });

  it('refuses a strategy that cannot do what the spec asks', () => {
    const { coordinator } = makeCoordinator();
    expect(() => coordinator.studies.create(tinyStudySpec({ strategy: 'fedprox' }))).toThrow('proximalMu');
    expect(() => coordinator.studies.create(tinyStudySpec({ strategy: 'scaffold', training: { ...tinyStudySpec().training, optimizer: 'adam' } }))).toThrow('SGD');
    expect(() => coordinator.studies.create(tinyStudySpec({ strategy: 'krum', minSites: 2 }))).toThrow('2f + 2');
  });

  it('refuses an architecture its model family cannot build, naming it', () => {
    const { coordinator } = makeCoordinator();
    expect(() => coordinator.studies.create(tinyStudySpec({ model: { family: 'logistic-regression', inputDim: 2, outputs: 3 } }))).toThrow(
      'model: ModelSpec.outputs must be 1 for logistic-regression, got 3',
    );
  });

  it('resumes an open round after a restart on the same SQLite file, without losing a contribution', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medfed-resume-'));
    try {
      const first = makeCoordinator(openSqliteStore(join(dir, 'c.sqlite')));
      const [a, b] = enrolAndConnect(first.coordinator, first.connections, 'alpha', 'beta');
      const study = first.coordinator.studies.create(tinyStudySpec({ rounds: 1 }));
      first.coordinator.studies.launch(study.id);
      first.coordinator.frames.handle(a.ctx, Events.TrainResult, trainResult(a, latestTask(a, first.connections), 10, delta(2, 2, 2)));
      const taskB = latestTask(b, first.connections);
      // crash: the process goes away with round 1 half collected
      first.coordinator.shutdown();
      first.store.close();

      const second = makeCoordinator(openSqliteStore(join(dir, 'c.sqlite')));
      second.coordinator.start();
      const b2 = new TestSite('beta', coordinatorIdentity, second.connections);
      Object.assign(b2, { identity: b.identity, codec: b.codec });
      // beta reconnects: it is sent the task it still owes, and its answer completes the round
      second.coordinator.frames.handle(b2.ctx, Events.Hello, b.hello());
      const resent = second.connections.to(b2.nodeId as string, Events.TrainTask);
      expect(resent).toHaveLength(1);
      expect(b.open<TrainTaskBody>(resent[0]).body).toMatchObject({ studyId: study.id, round: 1, modelVersion: 0 });
      const trained = waitFor(second.coordinator, (e) => e.type === 'round-completed' && e.kind === 'train');
      second.coordinator.frames.handle(b2.ctx, Events.TrainResult, trainResult(b, taskB, 10, delta(4, 4, 4)));
      await trained;
      expect(Array.from(decodeTensors(second.store.getModelVersion(study.id, 1)!.weights)[0].data)).toEqual([3, 3]);
      expect(second.store.listContributions(study.id, 1, 'train')).toHaveLength(2);
      second.coordinator.shutdown();
      second.store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
