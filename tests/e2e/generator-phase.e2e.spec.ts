/**
 * A study in two phases, end to end through node processes, on the real Tox21 data in the study's small
 * configuration: the main rounds train the classifier and the autoencoder; a generator phase of two rounds then
 * starts from the version the main phase chose and trains only the generator (warm-up end, then GAN steps); its last
 * version is evaluated once (with train-on-synthetic), saved, and re-scored by `medfed evaluate`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readAuditLog, verifyAuditLog } from '@medfed/audit';
import { REPO_ROOT, StudyDemoSummary, runStudyDemo } from '@medfed/demo';

const run = promisify(execFile);
const SITES = ['site-1', 'site-2', 'site-3'];

describe('medfed demo --study tox21-gan, two phases (fast configuration)', () => {
  let dir: string;
  let summary: StudyDemoSummary;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-generator-phase-'));
    summary = await runStudyDemo({
      study: 'tox21-gan',
      size: 'fast',
      workdir: join(dir, 'work'),
      saveModelDir: join(dir, 'model'),
      skipBaselines: true,
      print: () => undefined,
    });
  }, 600_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ran the 2 main and 2 generator rounds and delivered the last version', () => {
    expect(summary.rounds).toEqual({ planned: 4, run: 4, chosen: 4, chosenOn: 'generator-phase', generatorPhase: 2 });
    // Only the phase's last version was evaluated after the main rounds.
    expect(summary.history.map((h) => h.round)).toEqual([1, 2, 4]);
  });

  it("kept the chosen main round's classifier: the final test AUC is that round's, and train-on-synthetic was scored", () => {
    const main = summary.history.filter((h) => h.round <= 2);
    const chosen = main.reduce((best, h) => ((h.validationLoss ?? Infinity) < (best.validationLoss ?? Infinity) ? h : best));
    expect(summary.history[2].pooledAuc).toBe(chosen.pooledAuc);
    expect(summary.history[2].validationLoss).toBe(chosen.validationLoss);
    expect(summary.federated.pooled.groups['tstr']).toBeGreaterThan(0);
  });

  it('each node sent a sealed update in all four train rounds, and its audit log verifies', () => {
    for (const site of SITES) {
      const path = join(summary.workdir, 'nodes', site, 'state', 'audit.jsonl');
      const identity = JSON.parse(readFileSync(join(summary.workdir, 'nodes', site, 'node.public.json'), 'utf8')) as { signingPublicKey: string };
      expect(verifyAuditLog(path, { expectedSigner: identity.signingPublicKey }).ok).toBe(true);
      const sent = readAuditLog(path).filter((e) => e.event === 'message.sent' && e.details['kind'] === 'train-result');
      expect(sent.map((e) => e.details['round'])).toEqual([1, 2, 3, 4]);
    }
  });

  it('medfed evaluate re-scores the saved phase result to the federated figures, train-on-synthetic included', async () => {
    await run(process.execPath, [join(REPO_ROOT, 'bin', 'medfed.js'), 'evaluate', '--study', 'tox21-gan', '--model', join(dir, 'model'), '--data', join(REPO_ROOT, 'data', 'tox21'), '--json', join(dir, 'eval.json')], {
      timeout: 300_000,
    });
    const evaluation = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as { metrics: { pooled: { auc: number; groups: Record<string, { auc: number | null }> } } };
    expect(evaluation.metrics.pooled.auc).toBeCloseTo(summary.federated.pooled.auc as number, 3);
    expect(evaluation.metrics.pooled.groups['tstr'].auc).toBeCloseTo(summary.federated.pooled.groups['tstr'] as number, 3);
  }, 300_000);
});
