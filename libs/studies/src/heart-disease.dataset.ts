import { HEART_DISEASE_CENTERS, HEART_DISEASE_FEATURES, HeartDiseaseCenter, fitStandardizer, loadHeartDiseaseCenter } from '@medfed/data';
import { HEART_DISEASE_DEFAULT_STUDY } from '@medfed/models';
import { DataSchemaError } from '@medfed/data';

import type { DatasetDefinition, LoadedSite, SiteSource, StudyDefinition } from './study-definition';
import { emptyExamples, examplesFromTabular } from './tabular-examples.util';

/**
 * Fed-Heart-Disease (FLamby): four hospitals, FLamby's own train/test split, each hospital standardised
 * with statistics of its own training split (as FLamby does; no federated statistics). FLamby has no
 * validation split, so the validation set is empty and the heart study does not stop early.
 */
export const heartDiseaseDataset: DatasetDefinition = {
  dataset: 'fed-heart-disease',
  sites: HEART_DISEASE_CENTERS,
  outputNames: ['heart-disease'],
  featureNames: HEART_DISEASE_FEATURES,
  importanceAxis: { inputs: ['x'], names: HEART_DISEASE_FEATURES },
  load(source: SiteSource): LoadedSite {
    if (!(HEART_DISEASE_CENTERS as readonly string[]).includes(source.site)) {
      throw new DataSchemaError(`fed-heart-disease has no site ${JSON.stringify(source.site)}; the sites are ${HEART_DISEASE_CENTERS.join(', ')}`);
    }
    const raw = loadHeartDiseaseCenter(source.path, source.site as HeartDiseaseCenter);
    return {
      sizes: { train: raw.train.n, validation: 0, test: raw.test.n },
      prepare() {
        const standardizer = fitStandardizer(raw.train);
        return {
          train: examplesFromTabular(standardizer.apply(raw.train)),
          validation: emptyExamples({ x: [raw.train.dim] }, 1),
          test: examplesFromTabular(standardizer.apply(raw.test)),
        };
      },
    };
  },
};

/** FedAvg of logistic regression over the four hospitals (the foundation demo's study). */
export const heartDiseaseStudy: StudyDefinition = {
  name: 'heart-disease',
  dataset: 'fed-heart-disease',
  description: 'Heart disease diagnosis: logistic regression over 4 hospitals (FLamby Fed-Heart-Disease)',
  sites: HEART_DISEASE_CENTERS,
  dataDir: 'data/fed-heart-disease',
  headlineMetric: 'accuracy',
  spec(size) {
    return {
      name: 'heart-disease',
      dataset: 'fed-heart-disease',
      model: HEART_DISEASE_DEFAULT_STUDY.model,
      training: HEART_DISEASE_DEFAULT_STUDY.training,
      strategy: 'fedavg',
      secureAggregation: { clipRange: 10 },
      rounds: size === 'full' ? HEART_DISEASE_DEFAULT_STUDY.rounds : 3,
      minSites: 4,
      roundTimeoutSeconds: 120,
      seed: 42,
    };
  },
};
