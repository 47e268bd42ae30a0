import {
  EvaluateResultBody,
  EvaluateTaskBody,
  Events,
  MessageKind,
  StatisticsResultBody,
  StatisticsTaskBody,
  TrainResultBody,
  TrainTaskBody,
} from '@medfed/protocol';
import { generateIdentity } from '@medfed/crypto';
import { TestSite, tinyInitialWeights, tinyStudySpec } from './testing';
import { openLatest, setUpTestFederation, waitForEngineEvent } from './testing-federation';

const coordinatorIdentity = generateIdentity();

const setUp = (...names: string[]) => setUpTestFederation(coordinatorIdentity, ...names);
const waitFor = waitForEngineEvent;

const nextTick = () => new Promise((r) => setImmediate(r));

function statisticsAnswer(site: TestSite, studyId: string, sums: Omit<StatisticsResultBody, 'studyId' | 'round' | 'modelVersion'>): Buffer {
  return site.frame<StatisticsResultBody>(MessageKind.StatisticsResult, { studyId, round: 1, modelVersion: 0, ...sums });
}

const last = openLatest;

describe('federated statistics before round 1', () => {
  it('asks every site for sums, sends the global mean and std with every task, and keeps them with version 0', async () => {
    // Arrange
    const { coordinator, connections, sites } = setUp('alpha', 'beta');
    const [a, b] = sites;
    const study = coordinator.studies.create(tinyStudySpec({ rounds: 1, preprocessing: { federatedStatistics: true } }));

    // Act
    coordinator.studies.launch(study.id);
    await nextTick();

    // Assert: a sealed statistics task, and no training before the statistics are in
    const task = last<StatisticsTaskBody>(a, connections, Events.StatisticsTask);
    expect(task.sealed).toBe(true);
    expect(task.body).toMatchObject({ studyId: study.id, round: 1, modelVersion: 0, dataset: 'fed-heart-disease' });
    expect(connections.to(a.nodeId as string, Events.TrainTask)).toHaveLength(0);

    // alpha: feature 0 = {1, 3}, feature 1 = {10} (one missing); beta: feature 0 = {5}, feature 1 = {20, 30}
    coordinator.frames.handle(a.ctx, Events.StatisticsResult, statisticsAnswer(a, study.id, { suppressed: false, numExamples: 2, count: [2, 1], sum: [4, 10], sumSquares: [10, 100] }));
    const trainDispatched = waitFor(coordinator, (e) => e.type === 'round-started' && e.kind === 'train');
    coordinator.frames.handle(b.ctx, Events.StatisticsResult, statisticsAnswer(b, study.id, { suppressed: false, numExamples: 2, count: [1, 2], sum: [5, 50], sumSquares: [25, 1300] }));
    await trainDispatched;

    // feature 0: values 1, 3, 5 → mean 3, population std √(8/3); feature 1: 10, 20, 30 → mean 20, std √(200/3)
    const train = last<TrainTaskBody>(a, connections, Events.TrainTask).body;
    expect(train.statistics?.count).toEqual([3, 3]);
    expect(train.statistics?.mean[0]).toBeCloseTo(3, 12);
    expect(train.statistics?.mean[1]).toBeCloseTo(20, 12);
    expect(train.statistics?.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(train.statistics?.std[1]).toBeCloseTo(Math.sqrt(200 / 3), 12);
    expect(coordinator.store.getModelVersion(study.id, 0)?.metrics?.['featureStatistics']).toEqual(train.statistics);
    // each site got a receipt for its statistics
    expect(connections.to(b.nodeId as string, Events.Receipt)).toHaveLength(1);
    coordinator.shutdown();
  });

  it('refuses a second answer and a wrong feature count with named codes, and fails a study with too few usable sites', async () => {
    // Arrange
    const { coordinator, connections, sites } = setUp('alpha', 'beta');
    const [a, b] = sites;
    const study = coordinator.studies.create(tinyStudySpec({ rounds: 1, preprocessing: { federatedStatistics: true } }));
    coordinator.studies.launch(study.id);
    await nextTick();
    const failed = waitFor(coordinator, (e) => e.type === 'study-failed');

    // Act
    const answer = statisticsAnswer(a, study.id, { suppressed: false, numExamples: 20, count: [20], sum: [4], sumSquares: [10] });
    coordinator.frames.handle(a.ctx, Events.StatisticsResult, answer);
    coordinator.frames.handle(a.ctx, Events.StatisticsResult, statisticsAnswer(a, study.id, { suppressed: false, numExamples: 20, count: [20], sum: [4], sumSquares: [10] }));
    coordinator.frames.handle(b.ctx, Events.StatisticsResult, statisticsAnswer(b, study.id, { suppressed: false, numExamples: 20, count: [20, 20], sum: [4, 4], sumSquares: [10, 10] }));
    // beta then says it has too few patients: only alpha is usable, and the study needs 2
    coordinator.frames.handle(b.ctx, Events.StatisticsResult, statisticsAnswer(b, study.id, { suppressed: true, numExamples: 3 }));

    // Assert
    expect(a.refusals(connections)).toEqual(['DUPLICATE_CONTRIBUTION']);
    expect(b.refusals(connections)).toEqual(['SHAPE_MISMATCH']);
    const event = (await failed) as { reason: string };
    expect(event.reason).toBe('only 1 of the 2 sites needed sent federated statistics before the deadline');
    expect(coordinator.store.getModelVersion(study.id, 0)).toBeNull();
    coordinator.shutdown();
  });
});

describe('federated early stopping', () => {
  it('completes the study when the pooled validation loss stops improving, and marks the best version by validation', async () => {
    // Arrange: 6 rounds allowed, patience 2
    const { coordinator, connections, sites } = setUp('alpha', 'beta');
    const study = coordinator.studies.create(tinyStudySpec({ rounds: 6, earlyStopping: { patience: 2 } }));
    const completed = waitFor(coordinator, (e) => e.type === 'study-completed', 10_000);
    coordinator.studies.launch(study.id);
    // pooled validation loss per round: (a + b) / 20 examples; best at round 2, then two rounds without improvement
    const losses: Record<number, [number, number]> = { 1: [6, 6], 2: [3, 5], 3: [5, 5], 4: [4, 5] };
    // test loss is lowest at round 4: selection must not look at it
    const testLoss: Record<number, number> = { 1: 9, 2: 8, 3: 7, 4: 1 };

    // Act: play each round as both sites
    for (let round = 1; round <= 4; round++) {
      const trained = waitFor(coordinator, (e) => e.type === 'round-started' && e.kind === 'evaluate' && e.round === round);
      for (const site of sites) {
        const task = last<TrainTaskBody>(site, connections, Events.TrainTask).body;
        const update = tinyInitialWeights();
        coordinator.frames.handle(site.ctx, Events.TrainResult, site.frame<TrainResultBody>(MessageKind.TrainResult, { studyId: study.id, round, modelVersion: task.modelVersion, numExamples: 10, meanLoss: 0.5, durationMs: 1, backend: 'cpu' }, update));
      }
      await trained;
      const next =
        round < 4
          ? waitFor(coordinator, (e) => e.type === 'round-started' && e.kind === 'train' && e.round === round + 1)
          : waitFor(coordinator, (e) => e.type === 'round-started' && e.kind === 'evaluate' && e.round === 6);
      sites.forEach((site, i) => {
        const task = last<EvaluateTaskBody>(site, connections, Events.EvaluateTask).body;
        expect(task.round).toBe(round);
        const body: EvaluateResultBody = {
          studyId: study.id,
          round,
          modelVersion: task.modelVersion,
          suppressed: false,
          numExamples: 10,
          lossSum: testLoss[round],
          scores: [{ group: 'model', histograms: [{ positives: [0, 5], negatives: [5, 0] }] }],
          validation: { numExamples: 10, lossSum: losses[round][i], scores: [] },
        };
        coordinator.frames.handle(site.ctx, Events.EvaluateResult, site.frame<EvaluateResultBody>(MessageKind.EvaluateResult, body));
      });
      await next;
    }

    // Stopped training after round 4 (rounds 3 and 4 did not beat round 2); the final evaluation scores version 2
    // once more, as round 6 (the manifest's last), so the sites compute their end-of-study extras on the kept model.
    const final = sites.map((site) => last<EvaluateTaskBody>(site, connections, Events.EvaluateTask).body);
    expect(final.map((t) => [t.round, t.modelVersion])).toEqual([
      [6, 2],
      [6, 2],
    ]);
    sites.forEach((site, i) => {
      const body: EvaluateResultBody = { studyId: study.id, round: 6, modelVersion: 2, suppressed: false, numExamples: 10, lossSum: testLoss[2], scores: [{ group: 'model', histograms: [{ positives: [0, 5], negatives: [5, 0] }] }], validation: { numExamples: 10, lossSum: losses[2][i], scores: [] } };
      coordinator.frames.handle(site.ctx, Events.EvaluateResult, site.frame<EvaluateResultBody>(MessageKind.EvaluateResult, body));
    });
    await completed;

    // Assert
    expect(coordinator.store.getStudy(study.id)).toMatchObject({ status: 'completed', currentRound: 4 });
    expect(connections.to(sites[0].nodeId as string, Events.TrainTask)).toHaveLength(4);
    expect(coordinator.studies.status(study.id).bestModelVersion).toMatchObject({ version: 2, selectedOn: 'validation', selectionLoss: 0.4 });
    coordinator.shutdown();
  });
});
