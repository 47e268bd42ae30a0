/**
 * The breast-ultrasound study simulated in one process on the real BreastMNIST data with the studies lib's
 * `simulateStudy`: FedAvg of the study's CNN over the three sites (the same models, evaluation and best-round choice
 * by pooled validation loss as a real federation), for the `even` and `skewed` partitions; reports the pooled test AUC
 * (all sites' test parts together = the official test set), the round chosen and the wall time.
 *
 * Run: node -r @swc-node/register bench/breast-ultrasound-sim.ts [rounds=study full] [partitions=even,skewed] [seed=42]
 * Tuning overrides (JSON): SIM_ARCH merges into model.architecture, SIM_TRAINING into training. SIM_BASELINES=1 adds
 * the local-only and centralised baselines. SIM_TRACE=1 prints the pooled validation loss and test AUC every 5 rounds.
 */
import { registerModelFamily } from '@medfed/models';
import type { StudySpec } from '@medfed/protocol';
import { simulateStudy } from '@medfed/studies';

import { cnnFamily } from '../libs/models/src/cnn.model';
import { initBackend } from '../libs/models/src/tf-backend.util';
import { breastMnistDataset } from '../libs/studies/src/breast-ultrasound.dataset';
import { breastUltrasoundStudy } from '../libs/studies/src/breast-ultrasound.study';

async function main(): Promise<void> {
  // initBackend('wasm') also registers the wasm training kernels.
  await initBackend('wasm');
  registerModelFamily(cnnFamily);
  const base = breastUltrasoundStudy.spec('full');
  const rounds = process.argv[2] ? Number(process.argv[2]) : base.rounds;
  const partitions = (process.argv[3] ?? 'even,skewed').split(',');
  const seed = process.argv[4] ? Number(process.argv[4]) : base.seed;
  const arch = JSON.parse(process.env['SIM_ARCH'] ?? '{}') as Record<string, number | boolean | string | number[]>;
  const training = JSON.parse(process.env['SIM_TRAINING'] ?? '{}') as Partial<StudySpec['training']>;
  const spec: StudySpec = {
    ...base,
    rounds,
    seed,
    model: { ...base.model, architecture: { ...base.model.architecture, ...arch } },
    training: { ...base.training, ...training },
  };
  const baselines = process.env['SIM_BASELINES'] === '1';
  const rows = [];
  for (const partition of partitions) {
    const result = await simulateStudy({ ...breastUltrasoundStudy, partition }, breastMnistDataset, {
      spec,
      run: { federated: true, local: baselines, centralised: baselines },
      onRound: (round, metrics) => {
        if (process.env['SIM_TRACE'] === '1' && round % 5 === 0) {
          console.log(`  ${partition} round ${round}: pooled validation loss ${metrics.validationLoss?.toFixed(4)}, test AUC ${metrics.pooled.auc?.toFixed(3)}`);
        }
      },
    });
    const federated = result.federated;
    rows.push({
      partition,
      rounds,
      localSteps: spec.training.localSteps,
      bestRound: federated?.bestRound,
      testAuc: federated?.metrics.pooled.auc?.toFixed(3),
      worstSiteAuc: federated?.metrics.worstSite?.value.toFixed(3),
      localOnlyAuc: result.local?.pooled.auc?.toFixed(3),
      centralisedAuc: result.centralised?.pooled.auc?.toFixed(3),
      seconds: (result.durationMs / 1000).toFixed(1),
    });
  }
  console.table(rows);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
