import { ClientUpdate, createStrategy, scaffoldClientControl, subtractLayers, zerosLike } from '@medfed/aggregation';
import { CenterData, concatSplits, fitStandardizer, TabularSplit } from '@medfed/data';
import type { ModelSpec, StrategyConfig, StrategyName, TrainingConfig } from '@medfed/protocol';

import { AccuracyReport, accuracyReport } from './accuracy-report.types';
import { deriveSeed } from './seeded-rng.util';
import { TabularClassifier } from './tabular-classifier.model';
import { weightsDelta, WeightTensor, withShapes } from './weights.util';

/**
 * Standardises each site on its own training split, as FLamby does in federated and local mode:
 * no statistics leave a site. Returns new splits; the input is not modified.
 */
export function standardizePerCenter(centers: readonly CenterData[]): CenterData[] {
  return centers.map((c) => {
    const s = fitStandardizer(c.train);
    return { center: c.center, train: s.apply(c.train), test: s.apply(c.test) };
  });
}

/** The logistic-regression spec for a data set of this width (FLamby's Linear(13, 1) for heart disease). */
export function logisticSpecFor(centers: readonly CenterData[]): ModelSpec {
  return { family: 'logistic-regression', inputDim: centers[0].train.dim };
}

/** Evaluates `model` on every site's test split. */
export function evaluateOnCenters(model: TabularClassifier, centers: readonly CenterData[]): AccuracyReport {
  return accuracyReport(
    centers.map((c) => c.center),
    centers.map((c) => model.evaluate(c.test)),
  );
}

/** All test rows standardised with pooled-train statistics: FLamby's "Pooled Test" set. */
export function flambyPooledTest(centers: readonly CenterData[]): TabularSplit {
  const s = fitStandardizer(concatSplits(centers.map((c) => c.train)));
  return s.apply(concatSplits(centers.map((c) => c.test)));
}

/** evaluateOnCenters plus FLamby's pooled-test accuracy on `pooledTest`. */
export function evaluateWithFlambyPooled(
  model: TabularClassifier,
  centers: readonly CenterData[],
  pooledTest: TabularSplit,
): AccuracyReport {
  const counts = model.evaluate(pooledTest);
  return { ...evaluateOnCenters(model, centers), pooledFlamby: counts.numCorrect / counts.numExamples };
}

/** Settings of an in-process federated simulation. */
export interface FederatedSimulationOptions {
  /** Default: logistic regression over the data's width. */
  spec?: ModelSpec;
  /** Each site's local training; FedProx's μ is `training.proximalMu`. */
  training: TrainingConfig;
  /** Server strategy (see @medfed/aggregation createStrategy). Default 'fedavg'. SCAFFOLD needs `training.optimizer` 'sgd'. */
  strategy?: StrategyName;
  /** The strategy's hyper-parameters; omitted fields take its defaults. */
  strategyConfig?: StrategyConfig;
  rounds: number;
  /** Seeds the initial global model and every (round, site) training run. */
  seed: number;
  /** Evaluate the global model after every round (default false: only initial and final). */
  evaluateEveryRound?: boolean;
}

/** One round of the simulation. */
export interface SimulatedRound {
  round: number;
  /** Example-weighted mean of the sites' training losses. */
  meanTrainLoss: number;
  /** Wall time of each site's local training (ms), in site order. */
  trainMs: number[];
  report?: AccuracyReport;
}

/** Outcome of runFederatedSimulation. */
export interface FederatedSimulationResult {
  initial: AccuracyReport;
  final: AccuracyReport;
  rounds: SimulatedRound[];
  finalWeights: WeightTensor[];
}

/**
 * Simulates a federation in one process, no network: every round each site starts from the global model, trains
 * `training.localSteps` steps on its own standardised training split and returns its weight delta; the strategy
 * (FedAvg by default, McMahan et al. 2017) turns the deltas into the next global model. Under SCAFFOLD each site
 * keeps its own control variate c_i across rounds, trains with the correction c − c_i and returns Δc_i, as a node
 * does. Accuracy is the global model's on each site's test split (standardised with that site's statistics), as in
 * FLamby.
 *
 * @param centers raw (unnormalised) site data; standardised per site here.
 * @throws RangeError on a bad round count, a bad strategy config, or SCAFFOLD with a non-SGD optimizer.
 */
export function runFederatedSimulation(
  centers: readonly CenterData[],
  options: FederatedSimulationOptions,
): FederatedSimulationResult {
  if (!Number.isInteger(options.rounds) || options.rounds < 1) {
    throw new RangeError(`rounds must be a positive integer, got ${options.rounds}`);
  }
  const sites = standardizePerCenter(centers);
  const pooledTest = flambyPooledTest(centers);
  const model = TabularClassifier.create(options.spec ?? logisticSpecFor(sites), options.seed);
  try {
    const initial = evaluateWithFlambyPooled(model, sites, pooledTest);
    let global = model.getWeights();
    const strategy = createStrategy(options.strategy ?? 'fedavg', options.strategyConfig);
    let state = strategy.initialState(global.map((w) => w.data));
    // SCAFFOLD: each site's own control variate c_i, zero before its first round (Karimireddy et al. 2020).
    const controls = strategy.name === 'scaffold' ? sites.map(() => zerosLike(global.map((w) => w.data))) : undefined;
    if (controls && options.training.optimizer !== 'sgd') {
      throw new RangeError(`scaffold needs optimizer 'sgd' at the sites, got '${options.training.optimizer}'`);
    }
    const rounds: SimulatedRound[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const trainMs: number[] = [];
      let lossSum = 0;
      const payload = strategy.trainPayload(state);
      const contributions = sites.map((site, i): ClientUpdate => {
        model.setWeights(global);
        const correction = controls ? withShapes(subtractLayers(payload, controls[i]), global) : undefined;
        const t0 = performance.now();
        const outcome = model.train(site.train, options.training, deriveSeed(options.seed, round, i), { gradientCorrection: correction });
        trainMs.push(performance.now() - t0);
        lossSum += outcome.meanLoss * outcome.numExamples;
        const delta = weightsDelta(model.getWeights(), global);
        if (!controls) return { delta, numExamples: outcome.numExamples };
        const next = scaffoldClientControl(controls[i], payload, delta, options.training.localSteps, options.training.learningRate);
        const controlDelta = subtractLayers(next, controls[i]);
        controls[i] = next;
        return { delta, numExamples: outcome.numExamples, controlDelta };
      });
      const aggregated = strategy.aggregateTrain(
        global.map((w) => w.data),
        contributions,
        state,
        sites.length,
      );
      global = withShapes(aggregated.global, global);
      state = aggregated.state;
      const totalExamples = contributions.reduce((a, c) => a + c.numExamples, 0);
      const entry: SimulatedRound = { round, meanTrainLoss: lossSum / totalExamples, trainMs };
      if (options.evaluateEveryRound) {
        model.setWeights(global);
        entry.report = evaluateWithFlambyPooled(model, sites, pooledTest);
      }
      rounds.push(entry);
    }
    model.setWeights(global);
    return { initial, final: evaluateWithFlambyPooled(model, sites, pooledTest), rounds, finalWeights: global };
  } finally {
    model.dispose();
  }
}
