/**
 * "Train on synthetic, test on real" of a saved tox21-gan model against the size of the synthetic set: the real-data
 * classifier's mean ROC-AUC over the 12 assays on the three sites' pooled test splits, then, per variant, a fresh
 * classifier trained only on molecules drawn from the saved generator (trainClassifierOnSynthetic, seed 7).
 * The measurement behind the study's `syntheticEvaluation` setting.
 *
 * Run: npm run demo -- --study tox21-gan --no-baselines --save-model /tmp/tox21-model
 *      node bin/run-ts.js bench/tox21-tstr.ts /tmp/tox21-model ['[["name", {"samples": 4096, "training": {"localSteps": 400}}], …]']
 */
import { createModel, FederatedModel, initBackend, loadModelArtifact, SyntheticTrainingOptions, trainClassifierOnSynthetic } from '@medfed/models';
import { concatExampleSets } from '@medfed/data';
import { datasetDefinition, meanExactAuc, studyDefinition } from '@medfed/studies';

const DEFAULT_VARIANTS: [string, SyntheticTrainingOptions][] = [
  ['4k molecules, 400 steps', { samples: 4096, training: { localSteps: 400 } }],
  ['16k, 1,200 steps', { samples: 16384, training: { localSteps: 1200 } }],
  ['65k, 3,000 steps', { samples: 65536, training: { localSteps: 3000 } }],
];

async function main() {
  await initBackend('wasm');
  const study = studyDefinition('tox21-gan');
  if (!process.argv[2]) throw new Error('usage: bench/tox21-tstr.ts MODEL_DIR [VARIANTS_JSON]');
  const artifact = loadModelArtifact(process.argv[2]);
  const model: FederatedModel = createModel(artifact.spec, 0);
  model.setWeights(artifact.weights);
  const ds = datasetDefinition(study.dataset);
  const sites = study.sites.map((site) => ds.load({ path: study.dataDir, site, partition: study.partition, seed: 42 }).prepare(null));
  const test = concatExampleSets(sites.map((s) => s.test));
  const heads = test.labels.shape[1];
  console.log('real-data classifier      ', meanExactAuc(await model.predict(test), test.labels.data, heads).toFixed(3));
  const variants: [string, SyntheticTrainingOptions][] = process.argv[3] ? JSON.parse(process.argv[3]) : DEFAULT_VARIANTS;
  for (const [name, opts] of variants) {
    const t = performance.now();
    const syn = await trainClassifierOnSynthetic(model, 7, opts);
    console.log(name.padEnd(26), 'TSTR', meanExactAuc(await syn.predict(test), test.labels.data, heads).toFixed(3), `${((performance.now() - t) / 1000).toFixed(1)} s`);
    syn.dispose();
  }
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
