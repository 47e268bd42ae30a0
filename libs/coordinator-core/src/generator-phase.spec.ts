import { EvaluateResultBody, EvaluateTaskBody, Events, MessageKind, TrainResultBody, TrainTaskBody } from '@medfed/protocol';
import { generateIdentity } from '@medfed/crypto';
import { EngineEvent } from './round-engine';
import { TestSite, tinyInitialWeights, tinyStudySpec } from './testing';
import { openLatest, setUpTestFederation, waitForEngineEvent } from './testing-federation';

const coordinatorIdentity = generateIdentity();

const setUp = (...names: string[]) => setUpTestFederation(coordinatorIdentity, ...names);
const waitFor = waitForEngineEvent;
const last = openLatest;

/** A cgan study (the coordinator never builds the model: the tiny two-tensor weights stand in for it). */
const GENERATOR_STUDY = tinyStudySpec({
  model: { family: 'cgan', inputDim: 2, outputs: 1 },
  rounds: 6,
  earlyStopping: { patience: 2 },
  generatorPhase: { rounds: 2, localSteps: 5, batchSize: 3 },
});

describe('generator phase', () => {
  it('starts from the version early stopping chose, trains without per-round evaluations, and delivers its last version', async () => {
    // Arrange
    const { coordinator, connections, sites } = setUp('alpha', 'beta');
    const study = coordinator.studies.create(GENERATOR_STUDY);
    const completed = waitFor(coordinator, (e) => e.type === 'study-completed', 10_000);
    const started: EngineEvent[] = [];
    coordinator.engine.on('event', (e: EngineEvent) => {
      if (e.type === 'round-started') started.push(e);
    });
    coordinator.studies.launch(study.id);
    // pooled validation loss per main round (Σ / 20 examples): best at round 2, then two rounds without improvement
    const losses: Record<number, number> = { 1: 12, 2: 8, 3: 10, 4: 9 };
    // Each site's update adds `round` to every weight, so a version's weights say which rounds built it.
    // (A frame opens once: a second open is refused as a replay.)
    const train = (site: TestSite, round: number, task = last<TrainTaskBody>(site, connections, Events.TrainTask).body): void => {
      const update = tinyInitialWeights().map((w) => ({ shape: w.shape, data: w.data.map(() => round) }));
      const body: TrainResultBody = { studyId: study.id, round, modelVersion: task.modelVersion, numExamples: 10, meanLoss: 0.5, durationMs: 1, backend: 'cpu' };
      coordinator.frames.handle(site.ctx, Events.TrainResult, site.frame<TrainResultBody>(MessageKind.TrainResult, body, update));
    };
    const evaluate = (site: TestSite, round: number, lossSum: number, task = last<EvaluateTaskBody>(site, connections, Events.EvaluateTask).body): void => {
      const body: EvaluateResultBody = {
        studyId: study.id,
        round,
        modelVersion: task.modelVersion,
        suppressed: false,
        numExamples: 10,
        lossSum,
        scores: [{ group: 'model', histograms: [{ positives: [0, 5], negatives: [5, 0] }] }],
        validation: { numExamples: 10, lossSum: lossSum / 2, scores: [] },
      };
      coordinator.frames.handle(site.ctx, Events.EvaluateResult, site.frame<EvaluateResultBody>(MessageKind.EvaluateResult, body));
    };

    // Act: the main phase, rounds 1–4, as both sites
    for (let round = 1; round <= 4; round++) {
      const trained = waitFor(coordinator, (e) => e.type === 'round-started' && e.kind === 'evaluate' && e.round === round);
      sites.forEach((site) => train(site, round));
      await trained;
      const next = waitFor(coordinator, (e) => e.type === 'round-started' && e.kind === 'train' && e.round === (round < 4 ? round + 1 : 7));
      sites.forEach((site) => evaluate(site, round, losses[round]));
      await next;
    }
    // The generator phase: rounds 7 and 8 (after the manifest's 6 main rounds)
    const firstPhaseTasks = sites.map((site) => last<TrainTaskBody>(site, connections, Events.TrainTask));
    const secondStarted = waitFor(coordinator, (e) => e.type === 'round-started' && e.kind === 'train' && e.round === 8);
    sites.forEach((site, i) => train(site, 7, firstPhaseTasks[i].body));
    await secondStarted;
    const secondPhaseTasks = sites.map((site) => last<TrainTaskBody>(site, connections, Events.TrainTask).body);
    const finalStarted = waitFor(coordinator, (e) => e.type === 'round-started' && e.kind === 'evaluate' && e.round === 8);
    sites.forEach((site, i) => train(site, 8, secondPhaseTasks[i]));
    await finalStarted;
    const finalTask = last<EvaluateTaskBody>(sites[0], connections, Events.EvaluateTask);
    evaluate(sites[0], 8, 16, finalTask.body);
    evaluate(sites[1], 8, 16);
    await completed;

    // Assert: round 7 starts from version 2 (the lowest validation loss), with the phase's steps and batch
    for (const task of firstPhaseTasks) {
      expect(task.body).toMatchObject({ round: 7, modelVersion: 2 });
      expect(task.body.training).toEqual({ ...GENERATOR_STUDY.training, localSteps: 5, batchSize: 3 });
      // version 2 = 0 + 1 + 2 on every weight
      expect(task.tensors.map((t) => Array.from(t.data))).toEqual([[3, 3], [3]]);
    }
    expect(secondPhaseTasks[0]).toMatchObject({ round: 8, modelVersion: 7 });
    // No evaluation inside the phase; one final evaluation of the last version (2 + 7 + 8 on every weight)
    expect(started.map((e) => `${(e as { kind: string }).kind} ${(e as { round: number }).round}`)).toEqual([
      'train 1', 'evaluate 1', 'train 2', 'evaluate 2', 'train 3', 'evaluate 3', 'train 4', 'evaluate 4', 'train 7', 'train 8', 'evaluate 8',
    ]);
    expect(finalTask.body).toMatchObject({ round: 8, modelVersion: 8 });
    expect(finalTask.tensors.map((t) => Array.from(t.data))).toEqual([[18, 18], [18]]);
    expect(coordinator.store.getStudy(study.id)).toMatchObject({ status: 'completed', currentRound: 8, latestModelVersion: 8 });
    // The phase's result is the study's model, even though its validation loss (16 / 2 per site) is not the lowest
    expect(coordinator.studies.status(study.id).bestModelVersion).toMatchObject({ version: 8, selectedOn: 'generator-phase' });
    coordinator.shutdown();
  });

  it('refuses a generator phase for a model without a generator, naming the field', () => {
    const { coordinator } = setUp('alpha', 'beta');
    expect(() => coordinator.studies.create({ ...GENERATOR_STUDY, model: { family: 'logistic-regression', inputDim: 2 } })).toThrow(
      /generatorPhase: a logistic-regression model has no generator/,
    );
    coordinator.shutdown();
  });
});
