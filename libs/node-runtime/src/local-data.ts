import { DatasetDefinition, LoadedSite, datasetDefinition } from '@medfed/studies';
import { DataSourceConfig } from './node-config';

/** The node's patients, loaded and checked against the data set's schema; never leaves this process. */
export interface LocalData {
  dataset: DatasetDefinition;
  site: LoadedSite;
  /** This node's site within the data set. */
  siteName: string;
}

/** The configured data source cannot be used; says why without showing any patient value. */
export class LocalDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalDataError';
  }
}

/**
 * Loads the node's own data through its data set's definition: schema checks, cleaning and the seeded
 * train/validation/test split. Normalisation waits for the first task, which says whether the study
 * uses federated statistics.
 * @throws LocalDataError for an unknown data set or site; the loader's DataSchemaError for bad files.
 */
export function loadLocalData(source: DataSourceConfig): LocalData {
  let dataset: DatasetDefinition;
  try {
    dataset = datasetDefinition(source.dataset);
  } catch (err) {
    throw new LocalDataError((err as Error).message);
  }
  if (!dataset.sites.includes(source.center)) {
    throw new LocalDataError(`data.center must be one of ${dataset.sites.join(', ')} for ${source.dataset}, got ${JSON.stringify(source.center)}`);
  }
  const site = dataset.load({ path: source.path, site: source.center, partition: source.partition, seed: source.seed });
  return { dataset, site, siteName: source.center };
}
