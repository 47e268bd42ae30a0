/**
 * A study beyond logistic regression, end to end through node processes: federated statistics before round 1,
 * score histograms, study rates and permutation importance from every site, a saved model that `medfed
 * evaluate` re-scores to the same figures, and the nodes' audit logs recording what they sent — on the real
 * Diabetes 130-US data, in the study's small configuration.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readAuditLog, verifyAuditLog } from '@medfed/audit';
import { REPO_ROOT, StudyDemoSummary, runStudyDemo } from '@medfed/demo';

const run = promisify(execFile);

describe('medfed demo --study diabetes-treatment (fast configuration)', () => {
  let dir: string;
  let summary: StudyDemoSummary;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-study-'));
    summary = await runStudyDemo({ study: 'diabetes-treatment', size: 'fast', workdir: join(dir, 'work'), saveModelDir: join(dir, 'model'), skipBaselines: true, print: () => undefined });
  }, 600_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ran every round with federated statistics and reported every site', () => {
    expect(summary.federatedStatistics).toBe(true);
    expect(summary.rounds.run).toBe(2);
    expect(summary.federated.sites.map((s) => s.name).sort()).toEqual(['emergency', 'other', 'referral', 'transfer']);
    for (const site of summary.federated.sites) {
      expect(site.suppressed).toBe(false);
      expect(site.auc).toBeGreaterThan(0.3);
      expect(site.rates['recall_at_3']).toBeGreaterThan(0);
    }
    // 23 medications, of which several have no positive test patient: their AUC is null, never NaN
    expect(summary.federated.pooled.aucPerOutput).toHaveLength(23);
    expect(summary.federated.worstSite?.metric).toBe('auc');
    expect(summary.federated.importance.length).toBeGreaterThan(0);
  });

  it('each node sent only sums for the statistics, and its audit log verifies and records them', () => {
    for (const site of ['emergency', 'other', 'referral', 'transfer']) {
      const path = join(summary.workdir, 'nodes', site, 'state', 'audit.jsonl');
      const identity = JSON.parse(readFileSync(join(summary.workdir, 'nodes', site, 'node.public.json'), 'utf8')) as { signingPublicKey: string };
      expect(verifyAuditLog(path, { expectedSigner: identity.signingPublicKey }).ok).toBe(true);
      const sent = readAuditLog(path).filter((e) => e.event === 'statistics.sent');
      expect(sent).toHaveLength(1);
      expect(sent[0].details).toMatchObject({ suppressed: false, featureCount: 9 });
    }
  });

  it('medfed evaluate re-scores the saved model on the same data to the federated figures', async () => {
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'bin', 'medfed.js'), 'evaluate', '--study', 'diabetes-treatment', '--model', join(dir, 'model'), '--data', join(REPO_ROOT, 'data', 'diabetes-130'), '--json', join(dir, 'eval.json')], {
      timeout: 300_000,
    });
    const evaluation = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as { metrics: { pooled: { auc: number; rates: Record<string, { rate: number }> } } };
    expect(stdout).toContain('worst site:');
    expect(evaluation.metrics.pooled.auc).toBeCloseTo(summary.federated.pooled.auc as number, 3);
    expect(evaluation.metrics.pooled.rates['recall_at_3'].rate).toBeCloseTo(summary.federated.pooled.rates['recall_at_3'], 3);
  }, 300_000);
});
