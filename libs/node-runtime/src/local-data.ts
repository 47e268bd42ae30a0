import { CenterData, HEART_DISEASE_CENTERS, HeartDiseaseCenter, TabularSplit, fitStandardizer, loadHeartDiseaseCenter } from '@medfed/data';
import { DataSourceConfig } from './node-config';

/** The node's patients, split and normalised, ready for training; never leaves this process. */
export interface LocalData {
  dataset: string;
  train: TabularSplit;
  test: TabularSplit;
  featureCount: number;
}

/** The configured data source cannot be used; says why without showing any patient value. */
export class LocalDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalDataError';
  }
}

/**
 * Loads the node's own data set. Fed-Heart-Disease follows FLamby: each hospital standardises with
 * statistics of its own training split, so nothing about its patients is needed from elsewhere.
 */
export function loadLocalData(source: DataSourceConfig): LocalData {
  if (source.dataset !== 'fed-heart-disease') {
    throw new LocalDataError(`data set ${source.dataset} has no loader in this node`);
  }
  if (!(HEART_DISEASE_CENTERS as readonly string[]).includes(source.center)) {
    throw new LocalDataError(`data.center must be one of ${HEART_DISEASE_CENTERS.join(', ')}, got ${JSON.stringify(source.center)}`);
  }
  const raw: CenterData = loadHeartDiseaseCenter(source.path, source.center as HeartDiseaseCenter);
  const standardizer = fitStandardizer(raw.train);
  return {
    dataset: source.dataset,
    train: standardizer.apply(raw.train),
    test: standardizer.apply(raw.test),
    featureCount: raw.train.dim,
  };
}
