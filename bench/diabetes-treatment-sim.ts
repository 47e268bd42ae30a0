/**
 * The diabetes-treatment study simulated in one process on the real UCI Diabetes 130-US hospitals data, with the
 * lead's `simulateStudy`: FedAvg of the autoencoder over the four admission-source sites (federated statistics,
 * early stopping on the pooled validation loss), each site alone (local-only) and all training data pooled
 * (centralised). Printed for each, beside the popularity baseline (medications ranked by how often they are
 * prescribed): the pooled test mean ROC-AUC over the medications that have both classes in the test sets, recall@3,
 * and the 30-day / any readmission rates of patients whose regimen includes the top recommendation vs the rest.
 * A second federated run lets readmitted encounters teach the medication head too, to show what the
 * "prefer regimens without readmission" rule changes.
 *
 * Run: node -r @swc-node/register bench/diabetes-treatment-sim.ts [rounds=study full] [localSteps=study full]
 */
import { registerModelFamily } from '@medfed/models';
import type { StudyMetrics } from '@medfed/studies';

import { autoencoderFamily } from '../libs/models/src/autoencoder.model';
import { initBackend } from '../libs/models/src/tf-backend.util';
import { createDiabetesDataset, diabetesDataset } from '../libs/studies/src/diabetes-treatment.dataset';
import { diabetesTreatmentStudy } from '../libs/studies/src/diabetes-treatment.study';
import { simulateStudy } from '../libs/studies/src/study-simulation';

const pct = (r: { rate: number } | undefined) => (r === undefined ? '   –  ' : `${(100 * r.rate).toFixed(1).padStart(5)}%`);
const num = (v: number | null) => (v === null ? '  –  ' : v.toFixed(3));

function line(label: string, m: StudyMetrics): string {
  const r = m.pooled.rates;
  const withClasses = m.pooled.aucPerOutput.filter((a) => a !== null).length;
  return [
    label.padEnd(34),
    `mean AUC ${num(m.pooled.auc)} over the ${withClasses} medications with both classes | popularity 0.500 (one ranking for all)`,
    `recall@3 ${pct(r['recall_at_3'])} | popularity ${pct(r['popularity_recall_at_3'])}`,
    `readm<30 top1-matched ${pct(r['readmit30_top1_matched'])} (n=${r['readmit30_top1_matched']?.total ?? 0}) vs rest ${pct(r['readmit30_top1_unmatched'])}`,
    `| popularity ${pct(r['popularity_readmit30_top1_matched'])} (n=${r['popularity_readmit30_top1_matched']?.total ?? 0}) vs ${pct(r['popularity_readmit30_top1_unmatched'])}`,
    `readm-any matched ${pct(r['readmit_any_top1_matched'])} vs ${pct(r['readmit_any_top1_unmatched'])} | popularity ${pct(r['popularity_readmit_any_top1_matched'])} vs ${pct(r['popularity_readmit_any_top1_unmatched'])}`,
  ].join('\n    ');
}

async function main(): Promise<void> {
  const [roundsArg, stepsArg] = process.argv.slice(2).map(Number);
  await initBackend('wasm');
  registerModelFamily(autoencoderFamily);
  const base = diabetesTreatmentStudy.spec('full');
  const spec = {
    ...base,
    rounds: roundsArg || base.rounds,
    training: { ...base.training, localSteps: stepsArg || base.training.localSteps },
  };
  console.log(`diabetes-treatment: ${spec.rounds} rounds × ${spec.training.localSteps} local steps, sites ${diabetesTreatmentStudy.sites.join(', ')}`);

  const fedStart = performance.now();
  const fedOnly = await simulateStudy(diabetesTreatmentStudy, diabetesDataset, {
    spec,
    run: { federated: true, local: false, centralised: false },
    onRound: (round, m) => console.log(`  round ${round}: validation loss ${m.validationLoss?.toFixed(5) ?? '–'}, test AUC ${num(m.pooled.auc)}`),
  });
  const fedMs = performance.now() - fedStart;
  const baselines = await simulateStudy(diabetesTreatmentStudy, diabetesDataset, {
    spec,
    run: { federated: false, local: true, centralised: true },
  });
  const fed = fedOnly.federated;
  if (fed === undefined || baselines.local === undefined || baselines.centralised === undefined) throw new Error('simulation returned no results');
  const variant = await simulateStudy(diabetesTreatmentStudy, createDiabetesDataset({ learnFromReadmitted: true }), {
    spec,
    run: { federated: true, local: false, centralised: false },
  });

  const t = fed.metrics.pooled.rates['recall_at_3']?.total ?? 0;
  console.log(`\nPooled test: ${fed.metrics.pooled.numExamples} patients, ${t} prescribed medications; federated wall time ${(fedMs / 1000).toFixed(0)} s`);
  console.log(`Federated: best round ${fed.bestRound}, stopped after ${fed.stoppedAfter}; ${(baselines.durationMs / 1000).toFixed(0)} s for local-only and centralised`);
  console.log(line('FedAvg (no-readmission rule)', fed.metrics));
  console.log(line('Local only (no-readmission rule)', baselines.local));
  console.log(line('Centralised (no-readmission rule)', baselines.centralised));
  if (variant.federated) console.log(line(`FedAvg, learning from all (best ${variant.federated.bestRound})`, variant.federated.metrics));
  console.log('\nPer-site FedAvg test AUC / recall@3 (popularity):');
  for (const s of fed.metrics.sites) {
    console.log(`  ${s.name.padEnd(10)} n=${String(s.numExamples).padStart(5)}  AUC ${num(s.auc)}  recall@3 ${pct(s.rates['recall_at_3'])} (${pct(s.rates['popularity_recall_at_3'])})`);
  }
  const names = diabetesDataset.outputNames;
  console.log('\nFedAvg per-medication AUC:', fed.metrics.pooled.aucPerOutput.map((a, m) => `${names[m]} ${num(a)}`).join(', '));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
