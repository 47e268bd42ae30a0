import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { subsetExamples } from '@medfed/data';
import { cnnSaliency, createModel, loadModelArtifact, saliencyHeatmapPng } from '@medfed/models';

import { LimeExplanation, limeExplanation } from './lime';
import { FeatureImportance, combineImportance, permutationImportance } from './permutation-importance';
import type { DatasetDefinition, StudyDefinition } from './study-definition';

/** What `medfed explain` needs: a saved model, the hospital's own data, and which test patient. */
export interface LocalExplanationOptions {
  study: StudyDefinition;
  dataset: DatasetDefinition;
  modelDir: string;
  dataDir: string;
  site: string;
  /** Index of the patient in the site's test split. */
  example: number;
  seed?: number;
  samples?: number;
}

/** An explanation computed and shown only at the node that holds the patient. */
export interface LocalExplanation {
  study: string;
  site: string;
  example: number;
  /** LIME: which features pushed this patient's predicted probability up or down. */
  lime: LimeExplanation;
  /** The site's own permutation importance over its whole test split. */
  siteImportance: FeatureImportance[];
  testPatients: number;
}

/** The data set has no tabular or sequence feature axis to explain along (images use saliency maps). */
export class NotExplainableError extends Error {
  override readonly name = 'NotExplainableError';
}

/**
 * LIME for one test patient of this site and the site's permutation importance, from a saved global model
 * and the site's own data. Runs where the data is; the result is for the hospital's clinicians and is never
 * sent anywhere.
 */
export async function explainLocally(options: LocalExplanationOptions): Promise<LocalExplanation> {
  const axis = options.dataset.importanceAxis;
  if (!axis) throw new NotExplainableError(`${options.study.name} has no feature axis for LIME; image studies explain with saliency maps`);
  const artifact = loadModelArtifact(options.modelDir);
  const seed = options.seed ?? 42;
  const splits = options.dataset.load({ path: options.dataDir, site: options.site, partition: options.study.partition, seed: (artifact.metadata['seed'] as number | undefined) ?? 42 }).prepare(artifact.statistics);
  if (!Number.isInteger(options.example) || options.example < 0 || options.example >= splits.test.n) {
    throw new RangeError(`--example must be an index in [0, ${splits.test.n}) of the site's test split, got ${options.example}`);
  }
  const model = createModel(artifact.spec, 0);
  try {
    model.setWeights(artifact.weights);
    const lime = await limeExplanation(model, splits.test, options.example, axis, { seed, samples: options.samples });
    const importance = await permutationImportance(model, splits.test, axis, seed);
    return {
      study: options.study.name,
      site: options.site,
      example: options.example,
      lime,
      siteImportance: combineImportance([importance], axis.names),
      testPatients: splits.test.n,
    };
  } finally {
    model.dispose();
  }
}

/** What `medfed explain` writes for an image study. */
export interface ImageExplanation {
  study: string;
  site: string;
  files: { example: number; probability: number; label: number; gradientPng: string; integratedGradientsPng: string; completenessGap: number }[];
}

/**
 * Gradient saliency and integrated gradients (Sundararajan et al. 2017) for chosen test images of this site,
 * each written as a PNG (the image beside its heat map) into `outDir`, which stays inside the hospital.
 */
export async function explainImages(options: Omit<LocalExplanationOptions, 'example' | 'samples'> & { examples: number[]; outDir: string; steps?: number }): Promise<ImageExplanation> {
  const artifact = loadModelArtifact(options.modelDir);
  if (artifact.spec.family !== 'cnn') throw new NotExplainableError(`saliency maps need a cnn; ${options.study.name} trains a ${artifact.spec.family}`);
  const [height, width] = artifact.spec.inputShape ?? [];
  const splits = options.dataset.load({ path: options.dataDir, site: options.site, partition: options.study.partition, seed: (artifact.metadata['seed'] as number | undefined) ?? 42 }).prepare(artifact.statistics);
  const bad = options.examples.find((i) => !Number.isInteger(i) || i < 0 || i >= splits.test.n);
  if (bad !== undefined) throw new RangeError(`--example ${bad} is not an index in [0, ${splits.test.n}) of the site's test split`);
  mkdirSync(options.outDir, { recursive: true });
  const model = createModel(artifact.spec, 0);
  try {
    model.setWeights(artifact.weights);
    const files: ImageExplanation['files'] = [];
    for (const example of options.examples) {
      const one = subsetExamples(splits.test, [example]);
      const image = one.inputs['x'].data;
      const maps = cnnSaliency(model, image, { steps: options.steps ?? 64 });
      const probability = (await model.predict(one))[0];
      const gradientPng = join(options.outDir, `${options.site}-test-${example}-gradient.png`);
      const integratedGradientsPng = join(options.outDir, `${options.site}-test-${example}-integrated-gradients.png`);
      writeFileSync(gradientPng, saliencyHeatmapPng(image, maps.gradient, width, height));
      writeFileSync(integratedGradientsPng, saliencyHeatmapPng(image, maps.integratedGradients, width, height));
      // Integrated gradients' completeness: Σ attributions = logit(x) − logit(baseline); the gap shows the path's discretisation error.
      const total = maps.integratedGradients.reduce((t, v) => t + v, 0);
      files.push({ example, probability, label: one.labels.data[0], gradientPng, integratedGradientsPng, completenessGap: Math.abs(total - (maps.logit - maps.baselineLogit)) });
    }
    return { study: options.study.name, site: options.site, files };
  } finally {
    model.dispose();
  }
}
