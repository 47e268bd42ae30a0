/**
 * Training throughput of the four model families on every TensorFlow.js backend this machine has, beside
 * PyTorch's figures for comparable models on the same kind of machine (STACK.md: PyTorch 1.13, 2 threads;
 * PyTorch is not installable here, so its figures are the measured reference, not re-run).
 *
 * Each model is the study's own `full` architecture, trained on one site's REAL data (the study's first site,
 * normalised with its own statistics) with Adam and batch 32, as STACK.md measured; the figure is the median
 * over timed chunks of steps after two warm-up steps. Backends that cannot be loaded are listed with the reason.
 * Ratios are to the PyTorch reference band's midpoint; `bench/train-reference.ts` times STACK.md's own models.
 *
 * Run: node bin/run-ts.js bench/train.ts [--seconds 6] [--backends wasm,cpu,native,gpu] [--studies a,b]
 */
import { BackendPreference, createModel, initBackend } from '@medfed/models';
import { subsetExamples } from '@medfed/data';
import { datasetDefinition, listStudies } from '@medfed/studies';

/** PyTorch CPU examples/s from STACK.md for the closest reference model of each family. */
const PYTORCH_REFERENCE: Record<string, { model: string; low: number; high: number }> = {
  'breast-ultrasound': { model: 'CNN 28×28×1 Conv32-Pool-Conv64-Pool-Dense128-Dense1 (224k params)', low: 1410, high: 1590 },
  'icu-mortality': { model: 'LSTM(64), 48 steps × 16 features', low: 825, high: 1830 },
  'diabetes-treatment': { model: 'dense autoencoder 100-64-32-64-100', low: 47000, high: 48000 },
  'tox21-gan': { model: 'GAN step, G 100-128-256-100, D 100-256-128-1', low: 4700, high: 7700 },
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '6'));
  const backends = arg('backends', 'wasm,cpu,native,gpu').split(',') as BackendPreference[];
  const wanted = arg('studies', Object.keys(PYTORCH_REFERENCE).join(',')).split(',');
  const studies = listStudies().filter((s) => wanted.includes(s.name));
  const rows: string[] = [];
  for (const backend of backends) {
    try {
      await initBackend(backend);
    } catch (err) {
      rows.push(`${backend.padEnd(8)} unavailable: ${(err as Error).message.split('\n')[0].slice(0, 140)}`);
      continue;
    }
    for (const study of studies) {
      const spec = study.spec('full');
      const dataset = datasetDefinition(study.dataset);
      const site = dataset.load({ path: study.dataDir, site: study.sites[0], partition: study.partition, seed: spec.seed }).prepare(null);
      const train = subsetExamples(site.train, Array.from({ length: Math.min(site.train.n, 2048) }, (_, i) => i));
      // A study with a generator phase (tox21-gan) is timed on that phase's GAN steps, with its autoencoder warmed up:
      // the closest thing to STACK.md's GAN step. (Its main rounds train a dense classifier and the autoencoder.)
      const generatorOnly = spec.generatorPhase !== undefined;
      const modelSpec = generatorOnly ? { ...spec.model, architecture: { ...spec.model.architecture, autoencoderSteps: 0 } } : spec.model;
      const model = createModel(modelSpec, 1);
      const params = model.getWeights().reduce((t, w) => t + w.data.length, 0);
      const config = { ...spec.training, batchSize: 32, optimizer: 'adam' as const, localSteps: 1 };
      const options = { generatorOnly };
      try {
        // Two warm-up steps (kernel compilation, first allocations), then chunks of steps until the time is up.
        await model.train(train, { ...config, localSteps: 2 }, 1, options);
        const rates: number[] = [];
        const until = performance.now() + seconds * 1000;
        let chunk = 1;
        while (performance.now() < until || rates.length < 3) {
          const t = performance.now();
          await model.train(train, { ...config, localSteps: chunk }, rates.length + 2, options);
          const elapsed = performance.now() - t;
          rates.push((chunk * 32) / (elapsed / 1000));
          if (elapsed < 250) chunk *= 2;
          if (rates.length >= 3 && performance.now() > until) break;
        }
        const exPerSec = median(rates);
        const ref = PYTORCH_REFERENCE[study.name];
        const mid = (ref.low + ref.high) / 2;
        rows.push(
          `${backend.padEnd(8)} ${study.name.padEnd(20)} ${spec.model.family.padEnd(12)} ${String(params).padStart(9)} ${exPerSec.toFixed(0).padStart(9)} ex/s   ` +
            `PyTorch ${ref.low}–${ref.high} (${ref.model})   ratio ${(exPerSec / mid).toFixed(3)}`,
        );
      } finally {
        model.dispose();
      }
      console.log(rows[rows.length - 1]);
    }
  }
  console.log('\nbackend  study                family          params   tfjs ex/s   PyTorch CPU reference, ratio tfjs / PyTorch midpoint');
  for (const row of rows) console.log(row);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
