import type { StudyStatus, EvaluationMetrics, TrainingMetrics } from '@medfed/coordinator-core';
import { totalRounds } from '@medfed/protocol';

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`);

/** A study's status for a person: one line per round, each site's part in it, and the worst site. */
export function formatStudyStatus(status: StudyStatus): string {
  const s = status.study;
  const lines = [`study ${s.id} (${s.spec.name}): ${s.status}, round ${s.currentRound}/${totalRounds(s.spec)}${s.spec.generatorPhase ? ` (the last ${s.spec.generatorPhase.rounds} train only the generator)` : ''}, model version ${s.latestModelVersion ?? '-'}`];
  if (s.failureReason) lines.push(`  failed: ${s.failureReason}`);
  if (status.bestModelVersion) {
    const chosenBy = status.bestModelVersion.selectedOn === 'generator-phase' ? 'the generator phase\'s result, ' : '';
    lines.push(`  best model version: ${status.bestModelVersion.version} (${chosenBy}pooled test loss ${status.bestModelVersion.pooledMeanLoss.toFixed(4)}, accuracy ${pct(status.bestModelVersion.pooledAccuracy)})`);
  }
  for (const r of status.rounds) {
    const secs = r.closedAt ? ((r.closedAt - r.startedAt) / 1000).toFixed(1) + ' s' : 'open';
    const attempts = (r.attempts ?? 1) > 1 ? ` (${r.attempts} attempts)` : '';
    if (r.kind === 'train') {
      const m = r.metrics as unknown as TrainingMetrics | null;
      const sites = m?.sites.map((x) => `${x.name} n=${x.numExamples} ${x.durationMs} ms`).join(', ') ?? '';
      lines.push(`  round ${r.round} train    ${r.state.padEnd(10)} ${secs.padStart(7)}  from v${r.modelVersionIn}  loss ${m?.weightedMeanLoss?.toFixed(4) ?? 'n/a'}  ${sites}${attempts}`);
    } else {
      const m = r.metrics as unknown as EvaluationMetrics | null;
      const sites = m?.sites.map((x) => `${x.name} ${x.suppressed ? 'suppressed' : pct(x.accuracy)}`).join(', ') ?? '';
      const worst = m?.worstSite ? `  worst: ${m.worstSite.name} ${pct(m.worstSite.accuracy)}` : '';
      lines.push(`  round ${r.round} evaluate ${r.state.padEnd(10)} ${secs.padStart(7)}  mean ${pct(m?.meanSiteAccuracy)} pooled ${pct(m?.pooledAccuracy)}  ${sites}${worst}`);
    }
    const missing = r.participants.length - (r.kind === 'train' ? ((r.metrics as unknown as TrainingMetrics | null)?.sites.length ?? 0) : ((r.metrics as unknown as EvaluationMetrics | null)?.sites.length ?? 0));
    if (r.state === 'completed' && missing > 0) lines.push(`    ${missing} selected site(s) did not answer`);
  }
  for (const e of status.events.slice(0, 10)) lines.push(`  event ${new Date(e.at).toISOString()} ${e.kind} node=${e.nodeId ?? '-'} ${e.detail}`);
  return lines.join('\n');
}
