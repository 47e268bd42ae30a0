/**
 * A hospital's connection drops in the middle of a secure-aggregation session and comes back: the
 * session must go on with that hospital, not wait out a step's timeout and drop it. The real coordinator
 * and four real NodeClients on loopback, in this process; the network fault is injected by losing one
 * node's masked input and closing its transport, as a dropped connection would.
 *
 * Before the fix the coordinator sent the train task again on reconnect: the node trained again, began a
 * new session with new keys (refused by the coordinator as a step out of order), and the session waited
 * a tenth of the round's deadline for a masked input that never came.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient, bootstrapCoordinator, initCoordinator, loadCoordinatorConfig, RunningCoordinator } from '@medfed/coordinator-api';
import type { TrainingMetrics } from '@medfed/coordinator-core';
import { HEART_DISEASE_CENTERS } from '@medfed/data';
import { approveSignedManifest, initNode, loadNodeConfig, RunningNode, startNode } from '@medfed/node-runtime';
import { MemoryLogger, SilentLogger } from '@medfed/observability';
import { heartDemoStudy, REPO_ROOT } from '@medfed/demo';

const DATA = join(REPO_ROOT, 'data', 'fed-heart-disease');

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a node that loses its connection during secure aggregation', () => {
  let dir: string;
  let running: RunningCoordinator;
  let admin: AdminClient;
  let coordinatorKey: string;
  const logger = new MemoryLogger();
  const nodes = new Map<string, RunningNode>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-secagg-reconnect-'));
    const made = initCoordinator(join(dir, 'coordinator'), { port: 0 });
    coordinatorKey = made.signingPublicKey;
    running = await bootstrapCoordinator(loadCoordinatorConfig(made.configPath), { logger });
    admin = new AdminClient(running.url, made.adminToken);
    for (const center of HEART_DISEASE_CENTERS) {
      const node = initNode(join(dir, center), { name: center, coordinatorUrl: running.url, coordinatorSigningPublicKey: coordinatorKey, dataPath: DATA, center });
      const raw = JSON.parse(readFileSync(node.configPath, 'utf8')) as Record<string, unknown>;
      writeFileSync(node.configPath, JSON.stringify({ ...raw, reconnect: { minDelayMs: 50, maxDelayMs: 200 } }));
      await admin.enrolNode({ name: center, signingPublicKey: node.signingPublicKey });
      nodes.set(center, await startNode(loadNodeConfig(node.configPath), new SilentLogger()));
    }
    await until(async () => (await admin.listNodes()).filter((n) => n.connected).length === 4, 60_000, 'four nodes connected');
  }, 120_000);

  afterAll(async () => {
    for (const node of nodes.values()) await node.stop();
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends it the step it lost, and the round counts all four hospitals', async () => {
    // Arrange: a round deadline of 10 minutes, so a session step that waited for its timeout would wait
    // a minute, past this test's own limit.
    const spec = { ...heartDemoStudy({ rounds: 1, roundTimeoutSeconds: 600 }), minSites: 4, secureAggregation: { clipRange: 10 } };
    const study = await admin.createStudy(spec);
    const signed = await admin.studyManifest(study.id);
    for (const node of nodes.values()) approveSignedManifest(node.client.approvals, signed, coordinatorKey, 'e2e');
    const victim = (await admin.listNodes()).find((n) => n.name === 'hungarian');
    if (!victim) throw new Error('no hungarian node');
    // Lose hungarian's first masked input on its way in, and drop its connection.
    const engine = running.coordinator.engine;
    const onSecAggUp = engine.onSecAggUp.bind(engine);
    let lost = 0;
    engine.onSecAggUp = (nodeId, msg) => {
      if (nodeId === victim.id && msg.body.step === 'masked' && lost === 0) {
        lost += 1;
        const socket = (nodes.get('hungarian')?.client as unknown as { socket: { io: { engine: { close(): void } } } }).socket;
        socket.io.engine.close();
        return;
      }
      onSecAggUp(nodeId, msg);
    };

    // Act
    await admin.launchStudy(study.id);
    await until(async () => (await admin.studyStatus(study.id)).study.status !== 'running', 50_000, 'study ended');

    // Assert
    const status = await admin.studyStatus(study.id);
    expect(lost).toBe(1);
    expect(status.study.status).toBe('completed');
    const train = status.rounds.find((r) => r.kind === 'train');
    expect((train?.metrics as unknown as TrainingMetrics).sites.map((s) => s.name).sort()).toEqual([...HEART_DISEASE_CENTERS].sort());
    const resent = logger.lines.filter((l) => l.event === 'secagg.step-resent');
    expect(resent.map((l) => [l.fields.nodeId, l.fields.step])).toEqual([[victim.id, 'routed-shares']]);
    // The node neither trained again nor began a second session: no step was refused as out of order.
    expect(logger.lines.filter((l) => l.event === 'input.rejected' || /rejected/.test(l.event)).map((l) => l.fields.code)).not.toContain('WRONG_ROUND');
  }, 90_000);
});
