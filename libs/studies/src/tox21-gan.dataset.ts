import { DataSchemaError } from '@medfed/data';
import type { FederatedModel } from '@medfed/models';

// Relative until the barrels re-export them (then: from '@medfed/data' and '@medfed/models').
import {
  loadTox21,
  partitionTox21,
  splitTox21Rows,
  TOX21_ASSAYS,
  TOX21_DEFAULT_FINGERPRINT,
  TOX21_SITES,
  Tox21Data,
  tox21Examples,
  Tox21Partition,
} from '@medfed/data';
import { SyntheticTrainingOptions, trainClassifierOnSynthetic } from '@medfed/models';
import type { DatasetDefinition, EvaluationContext, ExtraEvaluation, LoadedSite, SiteSource } from './study-definition';

/** Partitions a Tox21 node accepts; `scaffold` (the default) gives each site whole Bemis–Murcko scaffold groups. */
export const TOX21_PARTITIONS: readonly Tox21Partition[] = Object.freeze(['scaffold', 'random']);

/**
 * Train-on-synthetic settings besides the study's `syntheticEvaluation` (samples, steps): assay labels drawn at
 * max(prior, 0.1), batches of 128 at Adam lr 1e-3.
 */
export const TOX21_TSTR_OPTIONS: SyntheticTrainingOptions = Object.freeze({
  minPositiveRate: 0.1,
  training: { batchSize: 128, learningRate: 1e-3 },
});

// One parse and fingerprint pass per folder and process: the three sites of a simulation share it.
const loaded = new Map<string, Tox21Data>();
function tox21Data(path: string): Tox21Data {
  let data = loaded.get(path);
  if (data === undefined) {
    data = loadTox21(path);
    loaded.set(path, data);
  }
  return data;
}

/**
 * Tox21 (DeepChem's tox21.csv.gz, 8,014 molecules × 12 assays) as a three-site data set. Every node loads the same
 * file and keeps only its own part: with the default `scaffold` partition whole Bemis–Murcko scaffold groups (acyclic
 * molecules are one group) go to the sites, largest first to the smallest site, in a fixed seeded order, so the sites
 * hold different chemical series (non-IID); `random` deals molecules at random. Each site's part is split 80/10/10
 * into train/validation/test by `source.seed` (duplicate SMILES kept together). Inputs: Morgan fingerprints (radius 2,
 * 1,024 bits; `x`), labels [n, 12] with NaN = assay not run. The 8 SMILES RDKit cannot parse are left out.
 *
 * Final-round extra (`evaluateExtras`), when the study has `syntheticEvaluation`: "train on synthetic, test on real"
 * (Esteban et al. 2017) — from the global model's generator and `context.seed`, every site deterministically trains
 * the same classifier on synthetic data only and scores its own test molecules with it, as score group `tstr`.
 */
export const tox21Dataset: DatasetDefinition = {
  dataset: 'tox21',
  sites: TOX21_SITES,
  outputNames: TOX21_ASSAYS,
  featureNames: Array.from({ length: TOX21_DEFAULT_FINGERPRINT.nBits }, (_, i) => `morgan2_bit${i}`),
  load(source: SiteSource): LoadedSite {
    const siteIndex = TOX21_SITES.indexOf(source.site);
    if (siteIndex < 0) throw new DataSchemaError(`tox21 has no site ${JSON.stringify(source.site)}; the sites are ${TOX21_SITES.join(', ')}`);
    const partition = (source.partition ?? 'scaffold') as Tox21Partition;
    if (!TOX21_PARTITIONS.includes(partition)) {
      throw new DataSchemaError(`tox21 has no partition ${JSON.stringify(source.partition)}; use ${TOX21_PARTITIONS.join(' or ')}`);
    }
    const data = tox21Data(source.path);
    const split = splitTox21Rows(data, partitionTox21(data, partition)[siteIndex], source.seed ?? 42);
    return {
      sizes: { train: split.train.length, validation: split.validation.length, test: split.test.length },
      // Binary fingerprints need no normalisation: global and local statistics give the same examples.
      prepare: () => ({
        train: tox21Examples(data, split.train),
        validation: tox21Examples(data, split.validation),
        test: tox21Examples(data, split.test),
      }),
    };
  },
  async evaluateExtras(model: FederatedModel, set, _probabilities, context: EvaluationContext): Promise<ExtraEvaluation> {
    const settings = context.syntheticEvaluation;
    if (!context.finalRound || set.n === 0 || !settings) return {};
    const options = { ...TOX21_TSTR_OPTIONS, samples: settings.samples, training: { ...TOX21_TSTR_OPTIONS.training, localSteps: settings.steps } };
    const synthetic = await trainClassifierOnSynthetic(model, context.seed, options);
    try {
      return { scoreGroups: { tstr: await synthetic.predict(set) } };
    } finally {
      synthetic.dispose();
    }
  },
};
