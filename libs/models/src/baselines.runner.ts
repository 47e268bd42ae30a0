import { CenterData, concatSplits, fitStandardizer } from '@medfed/data';
import type { ModelSpec, TrainingConfig } from '@medfed/protocol';

import { AccuracyReport, accuracyReport } from './accuracy-report.types';
import { evaluateOnCenters, flambyPooledTest, logisticSpecFor, standardizePerCenter } from './federated-simulation.runner';
import { TabularClassifier } from './tabular-classifier.model';

/** How long a baseline trains: `steps` mini-batch updates, or `epochs` passes over the training split (steps win if both). */
export interface BaselineOptions {
  /** Default: logistic regression over the data's width. */
  spec?: ModelSpec;
  /** batchSize, learningRate, optimizer, l2 are used; localSteps is replaced by epochs/steps; proximalMu is ignored. */
  training: TrainingConfig;
  epochs?: number;
  steps?: number;
  seed: number;
}

/** Result of the local baseline: each site's own model. */
export interface LocalBaselineResult extends AccuracyReport {
  /** Each site's model on the pooled test set (all sites' test rows), in site order. */
  pooledPerModel: number[];
  /** Each site's model on FLamby's pooled test set (pooled-train statistics), in site order; `pooledFlamby` is their mean. */
  pooledFlambyPerModel: number[];
  /**
   * Each site's model on every site's test split (each standardised with its own site's statistics), in site order:
   * FLamby's "Local i" rows, whose `meanPerCenter` is the figure FLamby's benchmark plots for Local i.
   */
  perModel: AccuracyReport[];
}

/** Result of the centralised baseline. */
export interface CentralisedBaselineResult extends AccuracyReport {
  /**
   * The same model on each site's test split standardised with that site's own training statistics, as FLamby's
   * benchmark scores its "Pooled Training" rows (every method is tested on the same per-site test loaders).
   */
  siteStandardised: AccuracyReport;
}

function stepsFor(nTrain: number, options: BaselineOptions): number {
  if (options.steps !== undefined) return options.steps;
  if (options.epochs === undefined) {
    throw new RangeError('a baseline needs `epochs` or `steps`');
  }
  return options.epochs * Math.ceil(nTrain / options.training.batchSize);
}

function trainOne(spec: ModelSpec, options: BaselineOptions, train: CenterData['train']): TabularClassifier {
  const model = TabularClassifier.create(spec, options.seed);
  try {
    model.train(train, { ...options.training, localSteps: stepsFor(train.n, options), proximalMu: 0 }, options.seed);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * FLamby's "Local i" baseline: each site trains alone on its own standardised training split (no federation).
 * perCenter = each site's model on its own test split; pooled = mean over the site models of their accuracy
 * on the pooled test set (every site's test split, standardised with that site's statistics, as FLamby does).
 *
 * @param centers raw (unnormalised) site data.
 */
export function trainLocalBaseline(centers: readonly CenterData[], options: BaselineOptions): LocalBaselineResult {
  const sites = standardizePerCenter(centers);
  const spec = options.spec ?? logisticSpecFor(sites);
  const pooledTest = flambyPooledTest(centers);
  const own = [];
  const pooledPerModel: number[] = [];
  const pooledFlambyPerModel: number[] = [];
  const perModel: AccuracyReport[] = [];
  for (const site of sites) {
    const model = trainOne(spec, options, site.train);
    try {
      own.push(model.evaluate(site.test));
      const everywhere = evaluateOnCenters(model, sites);
      perModel.push(everywhere);
      pooledPerModel.push(everywhere.pooled);
      const flamby = model.evaluate(pooledTest);
      pooledFlambyPerModel.push(flamby.numCorrect / flamby.numExamples);
    } finally {
      model.dispose();
    }
  }
  const report = accuracyReport(
    sites.map((s) => s.center),
    own,
  );
  return {
    ...report,
    pooled: pooledPerModel.reduce((a, b) => a + b, 0) / pooledPerModel.length,
    pooledPerModel,
    pooledFlamby: pooledFlambyPerModel.reduce((a, b) => a + b, 0) / pooledFlambyPerModel.length,
    pooledFlambyPerModel,
    perModel,
  };
}

/**
 * FLamby's "Pooled training" baseline (the upper reference federated learning tries to reach): all training
 * rows in one place, standardised with pooled-train statistics; tested on each site's test split and on all
 * test rows, both standardised with the same pooled statistics. FLamby's own per-site figures for this
 * baseline standardise each site's test rows with that site's statistics instead, which lowers them: those are
 * in `siteStandardised`.
 *
 * @param centers raw (unnormalised) site data.
 */
export function trainCentralisedBaseline(centers: readonly CenterData[], options: BaselineOptions): CentralisedBaselineResult {
  const pooledTrain = concatSplits(centers.map((c) => c.train));
  const s = fitStandardizer(pooledTrain);
  const train = s.apply(pooledTrain);
  const sites = centers.map((c) => ({ center: c.center, train: c.train, test: s.apply(c.test) }));
  const model = trainOne(options.spec ?? logisticSpecFor(centers), options, train);
  try {
    const report = evaluateOnCenters(model, sites);
    return { ...report, pooledFlamby: report.pooled, siteStandardised: evaluateOnCenters(model, standardizePerCenter(centers)) };
  } finally {
    model.dispose();
  }
}
