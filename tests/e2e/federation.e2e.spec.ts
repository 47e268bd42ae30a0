/**
 * The whole federation on loopback: an in-process coordinator (the real NestJS app on SQLite) and
 * four real node processes, each with only its own hospital's Fed-Heart-Disease rows, run two
 * rounds. The test records every frame the coordinator received, to check what left each node.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { AdminClient, RunningCoordinator, bootstrapCoordinator, initCoordinator, loadCoordinatorConfig } from '@medfed/coordinator-api';
import { ConnectionContext, EvaluationMetrics, MemoryLogger } from '@medfed/coordinator-core';
import { HEART_DISEASE_CENTERS, HEART_DISEASE_FEATURES, fitStandardizer, loadHeartDiseaseCenter } from '@medfed/data';
import { TabularClassifier } from '@medfed/models';
import { EnvelopeCodec, Events } from '@medfed/protocol';
import { NodeProcess, REPO_ROOT, bytesSentFromLog, heartDemoStudy, spawnNodeProcess, stopNodeProcesses } from '@medfed/demo';
import { ManifestApprovals, approveSignedManifest, initNode, loadNodeConfig, startNode } from '@medfed/node-runtime';
import { CoordinatorClaim, readAuditLog, reconcileWithCoordinator, verifyAuditLog } from '@medfed/audit';
import { generateIdentity, sha256Hex, toBase64 } from '@medfed/crypto';

const DATA = join(REPO_ROOT, 'data', 'fed-heart-disease');

interface Received {
  connectionId: string;
  nodeId: string | null;
  event: string;
  frame: Buffer;
}

describe('a federation of four hospitals on loopback', () => {
  let dir: string;
  let running: RunningCoordinator;
  let admin: AdminClient;
  let coordinatorKey: string;
  let poToken: string;
  const nodes: NodeProcess[] = [];
  const received: Received[] = [];
  const nodeIds = new Map<string, string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-e2e-'));
    const init = initCoordinator(join(dir, 'coordinator'), { port: 0 });
    coordinatorKey = init.signingPublicKey;
    poToken = init.privacyOfficerToken;
    running = await bootstrapCoordinator(loadCoordinatorConfig(init.configPath), { logger: new MemoryLogger(), dispatchRetryMs: 100 });
    admin = new AdminClient(running.url, init.adminToken);
    // Record every frame exactly as the gateway hands it to the coordinator.
    const frames = running.coordinator.frames;
    const handle = frames.handle.bind(frames);
    frames.handle = (ctx: ConnectionContext, event: string, frame: unknown): void => {
      if (Buffer.isBuffer(frame)) received.push({ connectionId: ctx.connectionId, nodeId: ctx.nodeId, event, frame: Buffer.from(frame) });
      handle(ctx, event, frame);
    };
    for (const center of HEART_DISEASE_CENTERS) {
      const made = initNode(join(dir, 'nodes', center), { name: center, coordinatorUrl: running.url, coordinatorSigningPublicKey: coordinatorKey, dataPath: DATA, center });
      const node = await admin.enrolNode({ name: center, signingPublicKey: made.signingPublicKey });
      nodeIds.set(center, node.id);
      nodes.push(spawnNodeProcess(center, made.configPath, dir));
    }
    const deadline = Date.now() + 120_000;
    while ((await admin.listNodes()).filter((n) => n.connected).length < 4) {
      if (Date.now() > deadline) throw new Error('nodes did not connect');
      const dead = nodes.find((n) => n.child.exitCode !== null);
      if (dead) throw new Error(`node ${dead.name} exited: ${readFileSync(dead.logPath, 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 180_000);

  afterAll(async () => {
    await stopNodeProcesses(nodes);
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trains two rounds of FedAvg, and the global model improves on the real data', async () => {
    const spec = heartDemoStudy({ rounds: 2, secureAggregation: false });
    const study = await admin.createStudy(spec);
    const signed = await admin.studyManifest(study.id);
    for (const center of HEART_DISEASE_CENTERS) approveSignedManifest(new ManifestApprovals(join(dir, 'nodes', center, 'state')), signed, coordinatorKey, 'e2e');
    const done = new Promise<void>((resolve, reject) => {
      running.coordinator.engine.on('event', (e) => {
        if (e.type === 'study-completed' && e.studyId === study.id) resolve();
        if (e.type === 'study-failed' && e.studyId === study.id) reject(new Error(e.reason));
      });
    });
    await admin.launchStudy(study.id);
    await done;

    const status = await admin.studyStatus(study.id);
    expect(status.study.status).toBe('completed');
    expect(status.rounds.map((r) => `${r.round}:${r.kind}:${r.state}`)).toEqual(['1:train:completed', '1:evaluate:completed', '2:train:completed', '2:evaluate:completed']);
    const final = status.rounds[3].metrics as unknown as EvaluationMetrics;
    expect(final.sites.map((s) => s.numExamples).sort((a, b) => a - b)).toEqual([16, 45, 89, 104]);

    // The initial model (version 0), evaluated here on the same standardised test splits.
    const initial = TabularClassifier.create(spec.model, spec.seed);
    let loss0 = 0;
    let n0 = 0;
    for (const center of HEART_DISEASE_CENTERS) {
      const raw = loadHeartDiseaseCenter(DATA, center);
      const counts = initial.evaluate(fitStandardizer(raw.train).apply(raw.test));
      loss0 += counts.lossSum;
      n0 += counts.numExamples;
    }
    initial.dispose();
    expect(final.pooledMeanLoss).not.toBeNull();
    expect(final.pooledMeanLoss as number).toBeLessThan(loss0 / n0);
    expect(final.pooledAccuracy as number).toBeGreaterThan(0.7);
  }, 180_000);

  it('sent nothing of any patient: no row appears in any byte a node sent, and sealed payloads hold only the model', () => {
    const fromNodes = received.filter((r) => r.event !== Events.Hello || r.nodeId === null);
    expect(fromNodes.length).toBeGreaterThanOrEqual(4 * 5); // hello + 2×(train + evaluate) per node
    const haystack = Buffer.concat(received.map((r) => r.frame));
    for (const center of HEART_DISEASE_CENTERS) {
      const raw = loadHeartDiseaseCenter(DATA, center);
      const std = fitStandardizer(raw.train);
      for (const split of [raw.train, raw.test, std.apply(raw.train), std.apply(raw.test)]) {
        for (let i = 0; i < split.n; i++) {
          const row = split.x.subarray(i * split.dim, (i + 1) * split.dim);
          // The row's first four features as float32 and as float64 bytes, and as text.
          const f32 = Buffer.from(new Float32Array(row.subarray(0, 4)).buffer);
          const f64 = Buffer.from(new Float64Array(Array.from(row.subarray(0, 4))).buffer);
          expect(haystack.indexOf(f32)).toBe(-1);
          expect(haystack.indexOf(f64)).toBe(-1);
        }
      }
      // Every raw line of the hospital's file, as text.
      const file = readFileSync(join(DATA, `processed.${center}.data`), 'utf8');
      for (const line of file.split('\n').filter((l) => l.length > 10)) {
        expect(haystack.indexOf(Buffer.from(line.slice(0, 16)))).toBe(-1);
      }
    }
    // Open every sealed frame with the coordinator's key: the body has only the protocol's fields and
    // the tensors are exactly the model's (13 weights and a bias) — there is no room for a record.
    const codec = new EnvelopeCodec({ identity: running.identity, maxFrameBytes: 1 << 24, maxSkewMs: 3_600_000 });
    for (const r of received.filter((x) => x.event === Events.TrainResult || x.event === Events.EvaluateResult)) {
      const opened = codec.decode<Record<string, unknown>>(r.frame, { isKnownSender: () => true });
      expect(opened.header.sealed).toBe(true);
      if (r.event === Events.TrainResult) {
        expect(Object.keys(opened.body).sort()).toEqual(['backend', 'durationMs', 'meanLoss', 'modelVersion', 'numExamples', 'round', 'studyId']);
        expect(opened.tensors.map((t) => t.shape)).toEqual([[HEART_DISEASE_FEATURES.length, 1], [1]]);
      } else {
        expect(opened.tensors).toEqual([]);
      }
    }
  });

  it("counts every byte a node sent: each node's own log equals what the coordinator received from it", () => {
    for (const node of nodes) {
      const id = nodeIds.get(node.name);
      const connections = new Set(received.filter((r) => r.nodeId === id).map((r) => r.connectionId));
      const bytes = received.filter((r) => connections.has(r.connectionId)).reduce((s, r) => s + r.frame.length, 0);
      expect(bytesSentFromLog(node.logPath)).toBe(bytes);
    }
  });

  it("keeps at every node an audit log that verifies, accounts for every byte sent, and holds no patient value", () => {
    for (const node of nodes) {
      const path = join(dir, 'nodes', node.name, 'state', 'audit.jsonl');
      const result = verifyAuditLog(path);
      expect(result).toMatchObject({ ok: true });
      const entries = readAuditLog(path);
      const sent = entries.filter((e) => e.event === 'message.sent');
      // Bytes and hashes in the log are those of the frames the coordinator received from this node.
      const id = nodeIds.get(node.name);
      const connections = new Set(received.filter((r) => r.nodeId === id).map((r) => r.connectionId));
      const frames = received.filter((r) => connections.has(r.connectionId));
      expect(sent.reduce((s, e) => s + Number(e.details['bytes']), 0)).toBe(frames.reduce((s, r) => s + r.frame.length, 0));
      expect(sent.map((e) => e.details['sha256']).sort()).toEqual(frames.map((r) => sha256Hex(r.frame)).sort());
      // Each accepted update has its receipt in the log, matching a frame the node sent.
      const receipts = entries.filter((e) => e.event === 'receipt.stored');
      expect(receipts.length).toBeGreaterThanOrEqual(4);
      expect(receipts.every((e) => e.details['matchesSentFrame'] === true)).toBe(true);
      // No raw value of the node's patients, as text, anywhere in the log.
      const text = readFileSync(path, 'utf8');
      const file = readFileSync(join(DATA, `processed.${node.name}.data`), 'utf8');
      for (const line of file.split('\n').filter((l) => l.length > 10)) expect(text).not.toContain(line.slice(0, 16));
    }
    expect(verifyAuditLog(running.auditLogPath)).toMatchObject({ ok: true });
  });

  it("detects a coordinator claim about a site that the site's signed receipts contradict", async () => {
    const center = 'cleveland';
    const nodeLog = readAuditLog(join(dir, 'nodes', center, 'state', 'audit.jsonl'));
    const receipts = readFileSync(join(dir, 'nodes', center, 'state', 'receipts.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { receiptFrame: string }).receiptFrame);
    const summary = (await (
      await fetch(`${running.url}/api/audit/sites/${nodeIds.get(center)}`, { headers: { authorization: `Bearer ${poToken}` } })
    ).json()) as { frames: CoordinatorClaim[] };
    expect(summary.frames.length).toBeGreaterThanOrEqual(4);
    // The honest account agrees with the site's own evidence.
    expect(reconcileWithCoordinator(nodeLog, receipts, summary.frames, coordinatorKey)).toMatchObject({ ok: true, problems: [] });
    // A claimed contribution the site never sent, and one the coordinator quietly dropped.
    const forged = { ...summary.frames[0], sha256: 'f'.repeat(64) };
    const tampered = reconcileWithCoordinator(nodeLog, receipts, [...summary.frames.slice(1), forged], coordinatorKey);
    expect(tampered.ok).toBe(false);
    expect(tampered.problems.map((p) => p.problem).sort()).toEqual(['claim-not-sent', 'receipt-not-claimed']);
    // Receipts are checked under the pinned key: under any other key none verifies.
    const wrongKey = reconcileWithCoordinator(nodeLog, receipts, summary.frames, toBase64(generateIdentity().signing.publicKey));
    expect(wrongKey.problems.filter((p) => p.problem === 'bad-receipt')).toHaveLength(receipts.length);
  });

  it('refuses a replayed update and a replayed hello, and never counts them', async () => {
    const before = running.store.listContributions((await admin.listStudies())[0].id, 2, 'train').length;
    const update = received.find((r) => r.event === Events.TrainResult);
    const hello = received.find((r) => r.event === Events.Hello && r.nodeId === null);
    expect(update && hello).toBeTruthy();
    // An eavesdropper replays captured frames on a socket of its own.
    const socket = io(running.url, { transports: ['websocket'], reconnection: false });
    const errors: { code: string }[] = [];
    socket.on(Events.ConnectionError, (payload: Buffer) => errors.push(JSON.parse(Buffer.from(payload).toString('utf8')) as { code: string }));
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    socket.emit(Events.Hello, hello!.frame);
    socket.emit(Events.TrainResult, update!.frame);
    const deadline = Date.now() + 5000;
    while (errors.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    socket.disconnect();
    expect(errors.map((e) => e.code)).toEqual(['REPLAYED', 'NOT_AUTHENTICATED']);
    // And replayed on the node's own authenticated connection (a hijacked transport): refused too.
    running.coordinator.frames.handle(
      { connectionId: 'hijacked', nodeId: update!.nodeId, reply: () => undefined, authenticated: () => undefined },
      Events.TrainResult,
      update!.frame,
    );
    const latest = running.store.listSiteEvents({ nodeId: update!.nodeId as string, limit: 1 })[0];
    expect(latest).toMatchObject({ kind: 'rejected' });
    expect(latest.detail.startsWith('REPLAYED')).toBe(true);
    const studyId = (await admin.listStudies())[0].id;
    expect(running.store.listContributions(studyId, 2, 'train')).toHaveLength(before);
  });

  it('refuses a node whose key was never enrolled, and the node learns why', async () => {
    const made = initNode(join(dir, 'nodes', 'intruder'), {
      name: 'intruder',
      coordinatorUrl: running.url,
      coordinatorSigningPublicKey: coordinatorKey,
      dataPath: DATA,
      center: 'cleveland',
      backend: 'cpu',
    });
    const logger = new MemoryLogger();
    const node = await startNode(loadNodeConfig(made.configPath), logger);
    const deadline = Date.now() + 10_000;
    while (!logger.lines.some((l) => l.event === 'coordinator.connection-error') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await node.stop();
    expect(node.client.ready).toBe(false);
    expect(String(logger.lines.find((l) => l.event === 'coordinator.connection-error')?.fields['unverified'])).toContain('NOT_ENROLLED');
    const refused = running.store.listSiteEvents({ limit: 50 }).filter((e) => e.detail.startsWith('NOT_ENROLLED'));
    expect(refused.length).toBeGreaterThan(0);
    expect((await admin.listNodes()).map((n) => n.name)).not.toContain('intruder');
  });
});
