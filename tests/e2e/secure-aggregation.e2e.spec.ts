/**
 * Secure aggregation over the real network: four node processes, one of which drops out after the
 * masks are shared (it sent its encrypted key shares, then never its masked input). The coordinator
 * must recover the sum of the other three — and so the same model as a plain FedAvg of those three.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTensors } from '@medfed/protocol';
import { heartDemoStudy } from '@medfed/demo';
import type { TrainingMetrics } from '@medfed/coordinator-core';
import { ProcessFederation } from './federation-harness';

describe('secure aggregation across real node processes', () => {
  let dir: string;
  let federation: ProcessFederation;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-secagg-'));
    federation = new ProcessFederation(dir);
    // VA takes part until the shares are out, then goes silent: the dropout SecAgg must survive.
    await federation.start((center) => (center === 'va' ? { MEDFED_FAULT_SECAGG_DROP_AFTER: 'shares' } : {}));
  }, 180_000);

  afterAll(async () => {
    await federation.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('recovers the sum without the dropped site: the model equals plain FedAvg of the other three', async () => {
    const rounds = 2;
    const secure = await federation.admin.createStudy({ ...heartDemoStudy({ rounds, roundTimeoutSeconds: 10 }), minSites: 3, secureAggregation: { clipRange: 10, threshold: 3 } });
    await federation.approveEverywhere(secure.id);
    await federation.admin.launchStudy(secure.id);
    const secureStatus = await federation.waitForStudy(secure.id);
    expect(secureStatus.study.status).toBe('completed');
    for (const r of secureStatus.rounds.filter((x) => x.kind === 'train')) {
      expect(r.participants).toHaveLength(4);
      expect((r.metrics as unknown as TrainingMetrics).sites.map((s) => s.name).sort()).toEqual(['cleveland', 'hungarian', 'switzerland']);
    }
    const secureWeights = decodeTensors(await federation.model(secure.id, rounds));

    // The same study in the clear, with VA gone: the reference the secure sum must reproduce.
    await federation.killNode('va');
    const plain = await federation.admin.createStudy({ ...heartDemoStudy({ rounds, roundTimeoutSeconds: 10 }), minSites: 3 });
    await federation.approveEverywhere(plain.id);
    await federation.admin.launchStudy(plain.id);
    expect((await federation.waitForStudy(plain.id)).study.status).toBe('completed');
    const plainWeights = decodeTensors(await federation.model(plain.id, rounds));

    secureWeights.forEach((layer, i) => layer.data.forEach((w, j) => expect(Math.abs(w - plainWeights[i].data[j])).toBeLessThan(1e-4)));
  }, 240_000);

  it('refuses a study that would need individual updates under secure aggregation', async () => {
    await expect(
      federation.admin.createStudy({ ...heartDemoStudy({ rounds: 1 }), strategy: 'median', secureAggregation: { clipRange: 10 } }),
    ).rejects.toThrow(/individual update/);
  });
});
