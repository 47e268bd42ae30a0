/**
 * The icu-mortality study simulated in one process on the real PhysioNet 2012 set A: the study's GRU-D trained by
 * FedAvg over the four ICU types with federated normalisation statistics and early stopping on the pooled validation
 * loss (libs/studies' simulateStudy: the same models, preprocessing and histogram-based evaluation as a federation),
 * then each site alone (local-only, own statistics) and all training data pooled (centralised). Prints the pooled test
 * AUROC and the challenge score min(sensitivity, positive predictivity) at the threshold chosen on pooled validation,
 * per-site AUROC, the wasm training and inference speed of the model, and the wall time.
 *
 * Targets: pooled test AUROC ≥ 0.80 and min(Se, PPV) ≥ 0.45 (SAPS-I 0.31, challenge winner 0.54; GRU-D AUROC ≈ 0.84,
 * Che et al. 2018). Exit code 1 when the federated model misses either.
 *
 * Run: node -r @swc-node/register bench/icu-mortality-sim.ts [--size full|fast] [--seed 42] [--rounds N] [--no-baselines]
 */
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { subsetExamples } from '@medfed/data';

import { registerModelFamily } from '../libs/models/src/federated-model';
import { rnnFamily } from '../libs/models/src/rnn.model';
import { initBackend } from '../libs/models/src/tf-backend.util';
import { registerWasmTrainingKernels } from '../libs/models/src/wasm-kernels.util';
import { physionetDataset } from '../libs/studies/src/icu-mortality.dataset';
import { icuMortalityStudy } from '../libs/studies/src/icu-mortality.study';
import { globalStatistics, simulateStudy } from '../libs/studies/src/study-simulation';
import type { StudyMetrics } from '../libs/studies/src/study-metrics';

const TARGET_AUC = 0.8;
const TARGET_MIN_SE_PPV = 0.45;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const f3 = (x: number | null | undefined) => (x === null || x === undefined ? '  —  ' : x.toFixed(3));

function line(label: string, m: StudyMetrics): string {
  const p = m.pooled;
  const sites = m.sites.map((s) => `${s.name} ${f3(s.auc)}`).join('  ');
  return `${label.padEnd(12)} AUROC ${f3(p.auc)}  min(Se,PPV) ${f3(p.minSePpv)} (Se ${f3(p.sensitivity)}, PPV ${f3(p.ppv)}, threshold bin ${m.thresholdBin})  calibration error ${f3(p.calibrationError)}  | ${sites}`;
}

/** Training and inference examples per second of the study's model on one site's training split (wasm, one thread). */
async function throughput(): Promise<{ train: number; predict: number }> {
  const spec = icuMortalityStudy.spec('full');
  const site = physionetDataset.load({ path: resolve(__dirname, '..', icuMortalityStudy.dataDir), site: 'icu-3', seed: spec.seed });
  const splits = site.prepare(globalStatistics(spec, [site]));
  const model = rnnFamily.create(spec.model, spec.seed);
  try {
    await model.train(splits.train, { ...spec.training, localSteps: 2 }, 1); // warm-up: kernels and wasm memory
    const steps = 20;
    const t0 = performance.now();
    await model.train(splits.train, { ...spec.training, localSteps: steps }, 2);
    const train = (steps * spec.training.batchSize) / ((performance.now() - t0) / 1000);
    const rows = subsetExamples(splits.train, Array.from({ length: Math.min(512, splits.train.n) }, (_, i) => i));
    const t1 = performance.now();
    await model.predict(rows);
    const predict = rows.n / ((performance.now() - t1) / 1000);
    return { train, predict };
  } finally {
    model.dispose();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const backend = await initBackend('wasm');
  registerWasmTrainingKernels();
  registerModelFamily(rnnFamily);
  const full = icuMortalityStudy.spec(arg('size', 'full') === 'fast' ? 'fast' : 'full');
  const spec = { ...full, seed: Number(arg('seed', String(full.seed))), rounds: Number(arg('rounds', String(full.rounds))) };
  console.log(`icu-mortality on PhysioNet 2012 set A, backend ${backend.name}, seed ${spec.seed}`);
  console.log(`model ${JSON.stringify(spec.model.architecture)}`);
  console.log(
    `training ${spec.training.optimizer} lr ${spec.training.learningRate}, ${spec.training.localSteps} local steps of batch ${spec.training.batchSize}, ` +
      `l2 ${spec.training.l2}; ${spec.strategy}, up to ${spec.rounds} rounds, early stopping patience ${spec.earlyStopping?.patience ?? '—'}`,
  );

  const speed = await throughput();
  console.log(`speed: training ${speed.train.toFixed(0)} examples/s, inference ${speed.predict.toFixed(0)} examples/s (one thread)`);

  const baselines = !process.argv.includes('--no-baselines');
  const result = await simulateStudy(icuMortalityStudy, physionetDataset, {
    dataDir: resolve(__dirname, '..', icuMortalityStudy.dataDir),
    spec,
    run: { federated: true, local: baselines, centralised: baselines },
    onRound: (round, m) =>
      console.log(`  round ${String(round).padStart(2)}  validation loss ${f3(m.validationLoss)}  test AUROC ${f3(m.pooled.auc)}  min(Se,PPV) ${f3(m.pooled.minSePpv)}`),
  });
  const fed = result.federated;
  if (!fed) throw new Error('the simulation ran no federated training');
  console.log(`\nfederated: best round ${fed.bestRound} of ${fed.stoppedAfter} run (early stopping on pooled validation loss)`);
  console.log(line('federated', fed.metrics));
  if (result.local) console.log(line('local-only', result.local));
  if (result.centralised) console.log(line('centralised', result.centralised));
  console.log(`wall time ${((performance.now() - started) / 1000).toFixed(0)} s (simulation ${(result.durationMs / 1000).toFixed(0)} s); tensors left ${tf.memory().numTensors}`);

  const auc = fed.metrics.pooled.auc ?? 0;
  const score = fed.metrics.pooled.minSePpv ?? 0;
  const ok = auc >= TARGET_AUC && score >= TARGET_MIN_SE_PPV;
  console.log(`target AUROC ≥ ${TARGET_AUC} and min(Se,PPV) ≥ ${TARGET_MIN_SE_PPV}: ${ok ? 'met' : 'MISSED'}`);
  if (!ok) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
