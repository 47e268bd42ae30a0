import { createModel, loadModelArtifact } from '@medfed/models';

import type { SyntheticEvaluationSpec } from '@medfed/protocol';
import { evaluateSite } from './site-evaluation';
import type { DatasetDefinition, StudyDefinition } from './study-definition';
import { StudyMetrics, combineEvaluations } from './study-metrics';

/** What `medfed evaluate` needs: a saved model and a data folder of the study's format. */
export interface SavedModelEvaluationOptions {
  study: StudyDefinition;
  dataset: DatasetDefinition;
  /** Folder written by `--save-model` (model.json + weights.bin). */
  modelDir: string;
  /** Data folder of the same format as the study's (e.g. another hospital's export). */
  dataDir: string;
  /** Sites of the data set to evaluate on; default all of the study's. */
  sites?: readonly string[];
  /** Seed of the sites' splits; default the saved model's study seed, else 42. */
  seed?: number;
  /** Aggregates over fewer patients are not reported; default 10. */
  minCohort?: number;
}

/** The model that was evaluated and its metrics on the new data. */
export interface SavedModelEvaluation {
  study: string;
  modelDir: string;
  dataDir: string;
  model: Record<string, unknown>;
  metrics: StudyMetrics;
}

/** A saved model does not belong to the study it is evaluated for. */
export class SavedModelMismatchError extends Error {
  override readonly name = 'SavedModelMismatchError';
}

/**
 * External validation: loads a saved global model with its preprocessing statistics, prepares each site of
 * `dataDir` with those statistics (not the new data's own), and reports the same per-site, pooled and
 * worst-site metrics as a federated evaluation round, on each site's test split.
 */
export async function evaluateSavedModel(options: SavedModelEvaluationOptions): Promise<SavedModelEvaluation> {
  const artifact = loadModelArtifact(options.modelDir);
  if (artifact.study !== options.study.name) {
    throw new SavedModelMismatchError(`the model in ${options.modelDir} was trained in study ${artifact.study}, not ${options.study.name}`);
  }
  const seed = options.seed ?? (typeof artifact.metadata['seed'] === 'number' ? (artifact.metadata['seed'] as number) : 42);
  // The settings the model was trained with, else the study's full configuration's.
  const syntheticEvaluation = (artifact.metadata['syntheticEvaluation'] as SyntheticEvaluationSpec | undefined) ?? options.study.spec('full').syntheticEvaluation;
  const model = createModel(artifact.spec, 0);
  try {
    model.setWeights(artifact.weights);
    const sites = options.sites ?? options.study.sites;
    const inputs = [];
    for (const site of sites) {
      const loaded = options.dataset.load({ path: options.dataDir, site, partition: options.study.partition, seed });
      const splits = loaded.prepare(artifact.statistics);
      const context = { studyId: 'external-validation', round: 1, finalRound: true, seed, syntheticEvaluation };
      const body = await evaluateSite(model, options.dataset, splits, context, options.minCohort ?? 10);
      inputs.push({ name: site, body });
    }
    return {
      study: options.study.name,
      modelDir: options.modelDir,
      dataDir: options.dataDir,
      model: artifact.metadata,
      metrics: combineEvaluations(inputs, options.study.headlineMetric),
    };
  } finally {
    model.dispose();
  }
}
