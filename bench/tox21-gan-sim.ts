/**
 * The tox21-gan study simulated in one process on the real Tox21 file (libs/studies' simulateStudy: the same models,
 * evaluation and early stopping as a federation, without the network): FedAvg over the three scaffold-split sites of
 * the cgan model (conditional GAN + multi-task classifier), then each site alone (local-only) and all training data
 * pooled (centralised); then the federated run again with synthetic augmentation of the classifier's batches.
 * Prints the mean ROC-AUC over the 12 assays (pooled test sets of the three sites) of the real-data classifier and of
 * "train on synthetic, test on real" (a fresh classifier trained only on the study's `syntheticEvaluation` molecules
 * from the chosen round's generator), per site, and the wall time.
 *
 * Targets: classifier mean AUC ≥ 0.75 (DeepChem, random split: multitask network 0.783, logistic regression 0.735);
 * TSTR within 0.08 of it. Exit code 1 when the federated classifier misses its target.
 *
 * Run: node -r @swc-node/register bench/tox21-gan-sim.ts [--size full|fast] [--partition scaffold|random] [--rounds N]
 *        [--variant both|plain|augmented] [--no-baselines] [--arch '{"ganStepsPerStep":2}'] [--lr 0.001]
 * (`plain` = real data only, with the local-only and centralised baselines; `augmented` = only the run with synthetic
 * augmentation; the two can run as two processes side by side.)
 *
 * The study's model holds its GAN in a fingerprint autoencoder's latent space and trains it in a generator phase
 * (StudySpec.generatorPhase) after the classifier's early stopping. Measured 2026-11-29 with a one-off instrumented
 * copy of this simulation that scored TSTR (32,768 molecules, 1,500 steps) every 1,000 GAN steps per site (scaffold
 * split, federated only; `--phase` and `--arch` here give each row's end point):
 *   64 dimensions, generator phase without the warm-up (AE 400 steps)     0.56 → 0.65 (2,000–6,000 steps), unstable
 *   64 dimensions, AE warmed up to 2,400 steps                            0.61–0.68, plateau from 2,000 steps
 *   64 dimensions, G trained centrally on the federated autoencoder        0.62–0.67 (the autoencoder, not FedAvg)
 *   16 dimensions, AE warmed up to 2,400 steps (the study's model)        0.63, 0.70, 0.73, 0.73 at 1–4k steps
 *    8 dimensions                                                         0.66, 0.70, 0.70, 0.69
 * against the classifier's 0.782. The 64-wide federated embeddings carried the labels (a real-data classifier on them
 * 0.794) but G could not match them; a centrally trained autoencoder of the same size left 86% of its units saturated,
 * an effectively low-dimensional space, where G reached 0.73.
 * Options: --phase '{"rounds":30,"localSteps":200,"batchSize":128}' | none; --arch overrides architecture fields.
 */
import * as tf from '@tensorflow/tfjs';
import type { StudySpec } from '@medfed/protocol';

import { cganFamily } from '../libs/models/src/cgan.model';
import { registerModelFamily } from '../libs/models/src/federated-model';
import { initBackend } from '../libs/models/src/tf-backend.util';
import { registerWasmTrainingKernels } from '../libs/models/src/wasm-kernels.util';
import { simulateStudy } from '../libs/studies/src/study-simulation';
import type { StudyMetrics } from '../libs/studies/src/study-metrics';
import { tox21Dataset } from '../libs/studies/src/tox21-gan.dataset';
import { TOX21_GAN_AUGMENTED_MODEL, tox21GanStudy } from '../libs/studies/src/tox21-gan.study';

const TARGET_AUC = 0.75;
const TSTR_GAP = 0.08;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const f3 = (x: number | null | undefined) => (x === null || x === undefined ? '  —  ' : x.toFixed(3));

function line(label: string, m: StudyMetrics): string {
  const p = m.pooled;
  const sites = m.sites.map((s) => `${s.name} ${f3(s.auc)}/${f3(s.groups['tstr']?.auc)}`).join('  ');
  return `${label.padEnd(22)} classifier AUC ${f3(p.auc)}  TSTR AUC ${f3(p.groups['tstr']?.auc)}  | per site (classifier/TSTR): ${sites}`;
}

async function main(): Promise<void> {
  await initBackend('wasm');
  registerWasmTrainingKernels();
  registerModelFamily(cganFamily);
  const size = arg('size', 'full') as 'full' | 'fast';
  const partition = arg('partition', 'scaffold');
  const base = tox21GanStudy.spec(size);
  const rounds = Number(arg('rounds', String(base.rounds)));
  // --arch '{"ganStepsPerStep":2}' overrides architecture fields of the study's model (for tuning).
  const archOverride = JSON.parse(arg('arch', '{}')) as Record<string, number | boolean | number[]>;
  const training = { ...base.training, learningRate: Number(arg('lr', String(base.training.learningRate))) };
  // --phase '{"rounds":30,"localSteps":200,"batchSize":128}' sets the generator phase; --phase none removes it.
  const phaseArg = arg('phase', '');
  const generatorPhase = phaseArg === 'none' ? undefined : phaseArg ? (JSON.parse(phaseArg) as StudySpec['generatorPhase']) : base.generatorPhase;
  const spec: StudySpec = { ...base, rounds, training, model: { ...base.model, architecture: { ...base.model.architecture, ...archOverride } }, generatorPhase };
  if (!generatorPhase) delete spec.generatorPhase;
  const study = { ...tox21GanStudy, partition };
  const phase = spec.generatorPhase ? `, then a generator phase of ${spec.generatorPhase.rounds} rounds × ${spec.generatorPhase.localSteps} GAN steps of ${spec.generatorPhase.batchSize ?? spec.training.batchSize}` : '';
  console.log(`tox21-gan: ${size}, ${partition} partition, up to ${rounds} rounds × ${spec.training.localSteps} local steps of ${spec.training.batchSize}, early stopping patience ${spec.earlyStopping?.patience ?? '—'}${phase}`);

  const variant = arg('variant', 'both');
  const t0 = performance.now();
  let auc = 0;
  let tstr = 0;
  if (variant !== 'augmented') {
    const plain = await simulateStudy(study, tox21Dataset, {
      spec,
      run: { federated: true, local: !flag('no-baselines'), centralised: !flag('no-baselines') },
      onRound: (r, m) => console.log(`  round ${String(r).padStart(2)}  validation loss ${f3(m.validationLoss)}  test AUC ${f3(m.pooled.auc)}`),
    });
    const fed = plain.federated;
    if (!fed) throw new Error('simulateStudy returned no federated result');
    console.log(`\nfederated: best round ${fed.bestRound}, stopped after ${fed.stoppedAfter}, ${(plain.durationMs / 1000).toFixed(0)} s (with baselines)`);
    console.log(line('federated (real only)', fed.metrics));
    if (plain.local) console.log(line('local-only', plain.local));
    if (plain.centralised) console.log(line('centralised', plain.centralised));

    auc = fed.metrics.pooled.auc ?? 0;
    tstr = fed.metrics.pooled.groups['tstr']?.auc ?? 0;
  }

  let augmented: StudyMetrics | undefined;
  if (variant !== 'plain') {
    const t1 = performance.now();
    const aug = await simulateStudy(study, tox21Dataset, {
      spec: { ...spec, model: { ...TOX21_GAN_AUGMENTED_MODEL, architecture: { ...TOX21_GAN_AUGMENTED_MODEL.architecture, ...archOverride } } },
      run: { federated: true, local: false, centralised: false },
    });
    augmented = aug.federated?.metrics;
    if (augmented) console.log(`${line('federated (+synthetic)', augmented)}  [best round ${aug.federated?.bestRound}, ${((performance.now() - t1) / 1000).toFixed(0)} s]`);
    if (variant === 'augmented' && augmented) {
      auc = augmented.pooled.auc ?? 0;
      tstr = augmented.pooled.groups['tstr']?.auc ?? 0;
    }
  }
  console.log(`\nclassifier mean AUC ${f3(auc)} (target ≥ ${TARGET_AUC}): ${auc >= TARGET_AUC ? 'met' : 'MISSED'}`);
  console.log(`TSTR mean AUC ${f3(tstr)}, gap ${f3(auc - tstr)} (target ≤ ${TSTR_GAP}): ${auc - tstr <= TSTR_GAP ? 'met' : 'MISSED'}`);
  console.log(`wall time ${((performance.now() - t0) / 1000).toFixed(0)} s; tensors left ${tf.memory().numTensors}`);
  if (auc < TARGET_AUC) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 2;
});
