import { concatExampleSets } from '@medfed/data';
import { createStrategy } from '@medfed/aggregation';
import { FederatedModel, createModel, weightsDelta } from '@medfed/models';
import { FeatureStatistics, StudySpec, combineFeatureSums, isGeneratorRound, totalRounds, trainingForRound } from '@medfed/protocol';

import { evaluateSite } from './site-evaluation';
import type { DatasetDefinition, LoadedSite, SiteSplits, StudyDefinition } from './study-definition';
import { StudyMetrics, combineEvaluations } from './study-metrics';

/** Options of an in-process simulation. */
export interface SimulationOptions {
  /** Folder of the data set; default the study's `dataDir`. */
  dataDir?: string;
  /** The study's configuration to run; default `spec('full')`. Pass a modified spec to tune. */
  spec?: StudySpec;
  /** Which of the three trainings to run; default all. */
  run?: { federated?: boolean; local?: boolean; centralised?: boolean };
  /** Minimum cohort for reported aggregates; default 1 (a simulation shows every site). */
  minCohort?: number;
  /** Called after every federated round with its metrics. */
  onRound?: (round: number, metrics: StudyMetrics) => void;
}

/** One federated round's figures. */
export interface RoundFigures {
  round: number;
  validationLoss: number | null;
  metrics: StudyMetrics;
}

/** What a simulation measured: federated (best round by validation), each site alone, and all data pooled. */
export interface SimulationResult {
  study: string;
  /** `bestRound` is the main phase's choice; with a generator phase the metrics are of the phase's last version. */
  federated?: { bestRound: number; stoppedAfter: number; metrics: StudyMetrics; history: RoundFigures[] };
  /** Each site's model trained only on its own data, evaluated on its own test split (sites' lines) and combined. */
  local?: StudyMetrics;
  /** One model trained on the union of the training splits, evaluated on each site's test split. */
  centralised?: StudyMetrics;
  durationMs: number;
}

/**
 * Loads every site of `study` (the way each node would), applies federated statistics when the study asks for
 * them, and runs the study's strategy in process: the same models, preprocessing, evaluation and early
 * stopping as a real federation, without the network. Used to tune studies and by the demo's baselines.
 */
export async function simulateStudy(study: StudyDefinition, dataset: DatasetDefinition, options: SimulationOptions = {}): Promise<SimulationResult> {
  const started = performance.now();
  const spec = options.spec ?? study.spec('full');
  const dataDir = options.dataDir ?? study.dataDir;
  const minCohort = options.minCohort ?? 1;
  const loaded = study.sites.map((site) => dataset.load({ path: dataDir, site, partition: study.partition, seed: spec.seed }));
  const statistics = globalStatistics(spec, loaded);
  const globalSplits = loaded.map((l) => l.prepare(statistics));
  const run = { federated: true, local: true, centralised: true, ...options.run };
  const result: SimulationResult = { study: study.name, durationMs: 0 };
  const evaluate = async (models: FederatedModel[], splits: SiteSplits[], round: number, finalRound: boolean) =>
    combineEvaluations(
      await Promise.all(
        study.sites.map(async (name, i) => ({
          name,
          body: await evaluateSite(models[i], dataset, splits[i], { studyId: 'simulation', round, finalRound, seed: spec.seed, syntheticEvaluation: spec.syntheticEvaluation }, minCohort),
        })),
      ),
      study.headlineMetric,
    );

  if (run.federated) {
    result.federated = await federated(spec, globalSplits, study.sites.length, evaluate, options.onRound);
  }
  if (run.local) {
    const ownSplits = loaded.map((l) => l.prepare(null));
    const models: FederatedModel[] = [];
    try {
      for (let i = 0; i < ownSplits.length; i++) {
        const model = createModel(spec.model, spec.seed);
        models.push(model);
        for (let r = 1; r <= totalRounds(spec); r++) await trainRound(model, ownSplits[i].train, spec, r, 1);
      }
      result.local = await evaluate(models, ownSplits, spec.rounds, true);
    } finally {
      models.forEach((m) => m.dispose());
    }
  }
  if (run.centralised) {
    const pooled = concatExampleSets(globalSplits.map((s) => s.train));
    const model = createModel(spec.model, spec.seed);
    try {
      // The same number of optimiser steps per round as all sites together take in a federated round.
      for (let r = 1; r <= totalRounds(spec); r++) await trainRound(model, pooled, spec, r, study.sites.length);
      result.centralised = await evaluate(study.sites.map(() => model), globalSplits, spec.rounds, true);
    } finally {
      model.dispose();
    }
  }
  result.durationMs = performance.now() - started;
  return result;
}

/** One round of a baseline: the round's training (main or generator phase) with `sites` times its local steps. */
async function trainRound(model: FederatedModel, set: SiteSplits['train'], spec: StudySpec, round: number, sites: number): Promise<void> {
  const training = trainingForRound(spec, round);
  await model.train(set, { ...training, localSteps: training.localSteps * sites }, spec.seed * 1000 + round, { generatorOnly: isGeneratorRound(spec, round) });
}

/** The global statistics every site would receive, or null when the study normalises locally. */
export function globalStatistics(spec: StudySpec, loaded: readonly LoadedSite[]): FeatureStatistics | null {
  if (!spec.preprocessing?.federatedStatistics) return null;
  const sums = loaded.map((l) => l.sums).filter((s): s is NonNullable<typeof s> => s !== undefined);
  if (sums.length === 0) throw new RangeError(`study ${spec.name} asks for federated statistics but its data set provides no sums`);
  return combineFeatureSums(sums);
}

async function federated(
  spec: StudySpec,
  splits: SiteSplits[],
  siteCount: number,
  evaluate: (models: FederatedModel[], splits: SiteSplits[], round: number, finalRound: boolean) => Promise<StudyMetrics>,
  onRound?: (round: number, metrics: StudyMetrics) => void,
): Promise<NonNullable<SimulationResult['federated']>> {
  const strategy = createStrategy(spec.strategy, spec.strategyConfig ?? {});
  const model = createModel(spec.model, spec.seed);
  try {
    const shapes = model.getWeights();
    let global: Float32Array[] = shapes.map((w) => w.data.slice());
    let state = strategy.initialState(global);
    const history: RoundFigures[] = [];
    // Without validation data (validationLoss null) the latest round is the model, as at the coordinator.
    let best: { round: number; loss: number; weights: Float32Array[]; state: typeof state } | null = null;
    let sinceBest = 0;
    let stoppedAfter = spec.rounds;
    const trainRoundOnSites = async (round: number): Promise<void> => {
      const updates = [];
      for (let i = 0; i < siteCount; i++) {
        model.setWeights(global.map((data, k) => ({ shape: shapes[k].shape, data })));
        const before = model.getWeights();
        const outcome = await model.train(splits[i].train, trainingForRound(spec, round), spec.seed * 1_000_003 + round * 101 + i, { generatorOnly: isGeneratorRound(spec, round) });
        updates.push({ delta: weightsDelta(model.getWeights(), before), numExamples: outcome.numExamples });
      }
      ({ global, state } = strategy.aggregateTrain(global, updates, state, siteCount));
      model.setWeights(global.map((data, k) => ({ shape: shapes[k].shape, data })));
    };
    for (let round = 1; round <= spec.rounds; round++) {
      await trainRoundOnSites(round);
      const metrics = await evaluate(splits.map(() => model), splits, round, false);
      history.push({ round, validationLoss: metrics.validationLoss, metrics });
      onRound?.(round, metrics);
      const loss = metrics.validationLoss ?? Number.NEGATIVE_INFINITY;
      if (best === null || loss < best.loss - (spec.earlyStopping?.minDelta ?? 0) || metrics.validationLoss === null) {
        best = { round, loss, weights: global.map((w) => new Float32Array(w)), state };
        sinceBest = 0;
      } else if (spec.earlyStopping && ++sinceBest >= spec.earlyStopping.patience) {
        stoppedAfter = round;
        break;
      }
    }
    if (best === null) throw new RangeError('a study needs at least one round');
    // The chosen model's final evaluation includes the extras that run only once (e.g. train-on-synthetic).
    model.setWeights(best.weights.map((data, k) => ({ shape: shapes[k].shape, data })));
    let finalRound = best.round;
    if (spec.generatorPhase) {
      // As at the coordinator: the generator phase starts from the chosen version and the strategy state saved with it.
      global = best.weights;
      state = best.state;
      for (let round = spec.rounds + 1; round <= totalRounds(spec); round++) await trainRoundOnSites(round);
      finalRound = totalRounds(spec);
    }
    const metrics = await evaluate(splits.map(() => model), splits, finalRound, true);
    return { bestRound: best.round, stoppedAfter, metrics, history };
  } finally {
    model.dispose();
  }
}
