/**
 * Faults injected into a real federation of processes: the coordinator killed with SIGKILL at each
 * phase of a round and started again on the same store, a straggler past the deadline, a node
 * killed mid-round. The interrupted run must end with the same model and round history as an
 * uninterrupted run with the same participants.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTensors } from '@medfed/protocol';
import { heartDemoStudy } from '@medfed/demo';
import type { TrainingMetrics } from '@medfed/coordinator-core';
import { ProcessFederation } from './federation-harness';
import { verifyAuditLog } from '@medfed/audit';

const ROUNDS = 4;

async function runStudy(dir: string, env: NodeJS.ProcessEnv = {}) {
  const federation = new ProcessFederation(dir, env);
  try {
    await federation.start();
    const study = await federation.admin.createStudy({ ...heartDemoStudy({ rounds: ROUNDS, roundTimeoutSeconds: 60, secureAggregation: false }), strategy: 'fedadam', strategyConfig: { serverLearningRate: 0.05 } });
    await federation.approveEverywhere(study.id);
    await federation.admin.launchStudy(study.id);
    const status = await federation.waitForStudy(study.id);
    const weights = decodeTensors(await federation.model(study.id, ROUNDS)).map((t) => Array.from(t.data));
    return { status, weights, starts: federation.coordinatorStarts };
  } finally {
    await federation.stop();
  }
}

describe('crash-resume: the coordinator killed at every phase of a round', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'medfed-crash-'));
    dirs.push(d);
    return d;
  };

  it('loses no round, counts none twice, and ends with the uninterrupted model', async () => {
    const reference = await runStudy(fresh());
    expect(reference.status.study.status).toBe('completed');

    const dir = fresh();
    const faultFile = join(dir, 'faults.txt');
    // One kill in each phase: before a dispatch, while collecting, while aggregating, after saving,
    // and while collecting evaluations. Each line fires once.
    writeFileSync(faultFile, ['before-dispatch train 2', 'collecting train 3', 'aggregating train 3', 'after-save train 4', 'collecting evaluate 1'].join('\n') + '\n');
    const crashed = await runStudy(dir, { MEDFED_FAULT_FILE: faultFile });

    expect(crashed.starts).toBe(6); // the first start plus one per kill
    expect(crashed.status.study.status).toBe('completed');
    const history = (s: typeof crashed.status) => s.rounds.map((r) => `${r.round}:${r.kind}:${r.state}:in${r.modelVersionIn}:${r.participants.length}`);
    expect(history(crashed.status)).toEqual(history(reference.status));
    for (const r of crashed.status.rounds.filter((x) => x.kind === 'train')) {
      expect((r.metrics as unknown as TrainingMetrics).sites.map((x) => x.name).sort()).toEqual(['cleveland', 'hungarian', 'switzerland', 'va']);
    }
    expect(crashed.status.modelVersions.map((m) => m.version)).toEqual([0, 1, 2, 3, 4]);
    // Full-batch local steps make training independent of data order, so the models agree to float rounding.
    crashed.weights.forEach((layer, i) => layer.forEach((w, j) => expect(w).toBeCloseTo(reference.weights[i][j], 5)));
  }, 420_000);
});

describe('stragglers and dropouts', () => {
  let dir: string;
  let federation: ProcessFederation;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-straggler-'));
    federation = new ProcessFederation(dir);
    // VA answers 6 s late: past a 3 s deadline.
    await federation.start((center) => (center === 'va' ? { MEDFED_FAULT_NODE_DELAY_MS: '6000' } : {}));
  }, 180_000);

  afterAll(async () => {
    await federation.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('closes a round at its deadline without the straggler, and a killed node rejoins by itself', async () => {
    const study = await federation.admin.createStudy({ ...heartDemoStudy({ rounds: 3, roundTimeoutSeconds: 3, secureAggregation: false }), minSites: 2 });
    await federation.approveEverywhere(study.id);
    await federation.admin.launchStudy(study.id);
    // Wait until round 1 is being evaluated, then kill Hungary mid-study and bring it back.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await federation.admin.studyStatus(study.id);
      if (s.rounds.some((r) => r.kind === 'evaluate')) break;
      if (Date.now() > deadline) throw new Error('round 1 did not finish');
      await new Promise((r) => setTimeout(r, 100));
    }
    await federation.killNode('hungarian');
    // Killed without warning, its audit log still verifies up to its last entry.
    expect(verifyAuditLog(join(dir, 'hungarian', 'state', 'audit.jsonl'))).toMatchObject({ ok: true });
    federation.startNode('hungarian');
    const status = await federation.waitForStudy(study.id);
    expect(status.study.status).toBe('completed');
    const trains = status.rounds.filter((r) => r.kind === 'train');
    for (const r of trains) {
      const sites = (r.metrics as unknown as TrainingMetrics).sites.map((x) => x.name);
      expect(sites).not.toContain('va'); // always late, never counted
      expect(r.participants.length).toBeGreaterThanOrEqual(3);
    }
    // Hungary, killed after round 1, took part again in the last round without anyone's action.
    expect((trains[trains.length - 1].metrics as unknown as TrainingMetrics).sites.map((x) => x.name)).toContain('hungarian');
  }, 240_000);
});
