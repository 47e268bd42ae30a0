/**
 * The node against a scripted coordinator: a real Socket.IO server that speaks the protocol with
 * its own keys, so the test decides exactly what the node receives.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server as HttpServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Server, Socket } from 'socket.io';
import {
  EnvelopeCodec,
  EvaluateResultBody,
  EvaluateTaskBody,
  Events,
  HelloBody,
  MessageKind,
  TaskDeclinedBody,
  TrainResultBody,
  TrainTaskBody,
  WelcomeBody,
  ReceiptBody,
  StudySpec,
  decodeTensors,
  manifestSha256,
  studyManifest,
} from '@medfed/protocol';
import { Identity, generateIdentity, keyFingerprint, sha256Hex, toBase64 } from '@medfed/crypto';
import { MemoryLogger } from '@medfed/observability';
import { readAuditLog } from '@medfed/audit';
import { PrivacyAccountant, PrivacyBudgetLedger } from '@medfed/privacy';
import { TabularClassifier, initBackend } from '@medfed/models';
import { initNode } from './init-node';
import { loadNodeConfig, NodeConfig } from './node-config';
import { RunningNode, startNode } from './start-node';

const DATA = resolve(__dirname, '../../../data/fed-heart-disease');

/** A coordinator the test scripts: it welcomes the node, then sends what the test asks. */
class ScriptedCoordinator {
  readonly identity: Identity = generateIdentity();
  readonly codec = new EnvelopeCodec({ identity: this.identity, maxFrameBytes: 1 << 24 });
  readonly received: { event: string; frame: Buffer }[] = [];
  private http!: HttpServer;
  private io!: Server;
  socket: Socket | null = null;
  nodeKeys: { signing: Uint8Array; encryption: Uint8Array } | null = null;
  url = '';

  constructor(private readonly welcomeWith: Identity | null = null) {}

  async listen(port = 0): Promise<void> {
    this.http = createServer();
    this.io = new Server(this.http, { maxHttpBufferSize: 1 << 24 });
    this.io.on('connection', (socket) => {
      this.socket = socket;
      socket.onAny((event: string, frame: Buffer) => {
        this.received.push({ event, frame: Buffer.from(frame) });
        if (event === Events.Hello) this.welcome(Buffer.from(frame));
      });
    });
    await new Promise<void>((r) => this.http.listen(port, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  private welcome(frame: Buffer): void {
    const hello = this.codec.decode<HelloBody>(frame, { isKnownSender: () => true });
    this.nodeKeys = { signing: hello.senderKey, encryption: Buffer.from(hello.body.encryptionPublicKey, 'base64') };
    // An impostor signs with its own key but claims to be the pinned coordinator.
    const signer = this.welcomeWith ? new EnvelopeCodec({ identity: this.welcomeWith, maxFrameBytes: 1 << 24 }) : this.codec;
    const welcome = signer.encode<WelcomeBody>({
      kind: MessageKind.Welcome,
      recipient: { signingPublicKey: hello.senderKey },
      body: { nodeId: keyFingerprint(hello.senderKey), coordinatorEncryptionPublicKey: toBase64(this.identity.encryption.publicKey), helloNonce: hello.header.nonce, maxFrameBytes: 1 << 24 },
      seal: false,
    });
    this.socket?.emit(Events.Welcome, welcome);
  }

  send<B>(kind: MessageKind, body: B, tensors: { shape: number[]; data: Float32Array }[]): void {
    if (!this.nodeKeys || !this.socket) throw new Error('no node connected');
    const frame = this.codec.encode<B>({ kind, recipient: { signingPublicKey: this.nodeKeys.signing, encryptionPublicKey: this.nodeKeys.encryption }, body, tensors, seal: true });
    this.socket.emit(kind === MessageKind.TrainTask ? Events.TrainTask : Events.EvaluateTask, frame);
  }

  async next(event: string, timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    const seen = this.received.filter((r) => r.event === event).length;
    for (;;) {
      const all = this.received.filter((r) => r.event === event);
      if (all.length > seen) return all[all.length - 1].frame;
      if (Date.now() > deadline) throw new Error(`no ${event} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  open<B>(frame: Buffer): B {
    return this.codec.decode<B>(frame, { isKnownSender: () => true }).body;
  }

  async close(): Promise<void> {
    this.io.disconnectSockets(true);
    await new Promise<void>((r) => this.io.close(() => r()));
  }
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('NodeClient against a scripted coordinator', () => {
  let dir: string;
  const running: RunningNode[] = [];
  const servers: ScriptedCoordinator[] = [];

  beforeAll(async () => {
    await initBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'medfed-node-'));
  });

  afterEach(async () => {
    for (const n of running.splice(0)) await n.stop();
    for (const s of servers.splice(0)) await s.close();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function node(coordinator: ScriptedCoordinator, name: string, center = 'hungarian', policy: Partial<NodeConfig['policy']> = {}): Promise<{ node: RunningNode; logger: MemoryLogger }> {
    const made = initNode(join(dir, name), {
      name,
      coordinatorUrl: coordinator.url,
      coordinatorSigningPublicKey: toBase64(coordinator.identity.signing.publicKey),
      dataPath: DATA,
      center,
      backend: 'cpu',
      policy,
    });
    const config = { ...loadNodeConfig(made.configPath), reconnect: { minDelayMs: 50, maxDelayMs: 200 } };
    const logger = new MemoryLogger();
    const started = await startNode(config, logger);
    running.push(started);
    return { node: started, logger };
  }

  /** A train task with a manifest that says exactly what the task does. */
  const trainTask = (overrides: Partial<TrainTaskBody> = {}): TrainTaskBody => {
    const base = {
      studyId: 'study-1',
      round: 1,
      modelVersion: 0,
      dataset: 'fed-heart-disease' as const,
      model: { family: 'logistic-regression' as const, inputDim: 13 },
      training: { localSteps: 20, batchSize: 4, learningRate: 0.05, optimizer: 'sgd' as const, l2: 0, proximalMu: 0 },
      deadlineAt: Date.now() + 60_000,
      ...overrides,
    };
    const spec: StudySpec = {
      name: 'node test',
      dataset: base.dataset,
      model: base.model,
      training: base.training,
      strategy: base.strategy ?? 'fedavg',
      rounds: 10,
      minSites: 1,
      roundTimeoutSeconds: 60,
      seed: 1,
    };
    return { ...base, manifest: overrides.manifest ?? studyManifest(base.studyId, spec) };
  };
  const evaluateTask = (train: TrainTaskBody): EvaluateTaskBody => ({
    studyId: train.studyId,
    round: train.round,
    modelVersion: 1,
    dataset: train.dataset,
    model: train.model,
    manifest: train.manifest,
  });
  const approve = (n: RunningNode, task: TrainTaskBody): void => {
    n.client.approvals.approve(task.manifest, 'test-operator');
  };

  const zeroWeights = () => {
    const m = TabularClassifier.create({ family: 'logistic-regression', inputDim: 13 }, 1);
    const w = m.getWeights();
    m.dispose();
    return w;
  };

  it('trains a task and sends back only a sealed delta of the model shape, with its example count', async () => {
    const coordinator = new ScriptedCoordinator();
    servers.push(coordinator);
    await coordinator.listen();
    const { node: n } = await node(coordinator, 'trainer');
    await until(() => n.client.ready);
    const task = trainTask();
    approve(n, task);
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, task, zeroWeights());
    const frame = await coordinator.next(Events.TrainResult);
    const opened = coordinator.codec.decode<TrainResultBody>(frame, { isKnownSender: () => true });
    expect(opened.header.sealed).toBe(true);
    expect(opened.body).toMatchObject({ studyId: 'study-1', round: 1, modelVersion: 0, numExamples: 172 });
    expect(opened.tensors.map((t) => t.shape)).toEqual([[13, 1], [1]]);
    expect(opened.tensors[0].data.some((v) => v !== 0)).toBe(true);
  });

  it('takes part in SCAFFOLD: sends Δy and Δc_i, and keeps c_i only once the coordinator acknowledged it', async () => {
    const coordinator = new ScriptedCoordinator();
    servers.push(coordinator);
    await coordinator.listen();
    const { node: n } = await node(coordinator, 'scaffolder', 'va');
    await until(() => n.client.ready);
    const weights = zeroWeights();
    const c = weights.map((w) => ({ shape: w.shape, data: w.data.map(() => 0.01) }));
    const task = trainTask({ strategy: 'scaffold', training: { localSteps: 10, batchSize: 512, learningRate: 0.1, optimizer: 'sgd', l2: 0, proximalMu: 0 } });
    approve(n, task);
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, task, [...weights, ...c]);
    const frame = await coordinator.next(Events.TrainResult);
    const opened = coordinator.codec.decode<TrainResultBody>(frame, { isKnownSender: () => true });
    expect(opened.tensors.map((t) => t.shape)).toEqual([[13, 1], [1], [13, 1], [1]]);
    // Option II with c_i = 0: Δc_i = c_i+ − c_i = −c + (x − y)/(K·η) = −c − Δy/(K·η)
    const dy = opened.tensors[0].data;
    const dc = opened.tensors[2].data;
    for (let j = 0; j < dy.length; j++) expect(dc[j]).toBeCloseTo(-0.01 - dy[j] / (10 * 0.1), 5);
    const controlFile = join(dir, 'scaffolder', 'state', 'scaffold', `${task.studyId}.bin`);
    expect(existsSync(controlFile)).toBe(false);
    // The signed receipt for exactly that frame makes the node keep c_i+.
    const receipt = coordinator.codec.encode<ReceiptBody>({
      kind: MessageKind.Receipt,
      recipient: { signingPublicKey: coordinator.nodeKeys!.signing },
      body: { studyId: task.studyId, round: task.round, nodeId: 'x', frameSha256: sha256Hex(frame), numExamples: opened.body.numExamples, receivedAt: Date.now() },
      seal: false,
    });
    coordinator.socket!.emit(Events.Receipt, receipt);
    await until(() => existsSync(controlFile));
    const kept = decodeTensors(readFileSync(controlFile));
    expect(Array.from(kept[0].data)).toEqual(Array.from(dc));
  });

  it('declines what its local policy forbids, and suppresses metrics below the minimum cohort', async () => {
    const coordinator = new ScriptedCoordinator();
    servers.push(coordinator);
    await coordinator.listen();
    // Switzerland has 16 test patients; this hospital asks for at least 20.
    const { node: n } = await node(coordinator, 'strict', 'switzerland', { allowedModelFamilies: ['logistic-regression'], maxLocalSteps: 50, minCohortSize: 20 });
    await until(() => n.client.ready);
    const tasks = [
      trainTask({ model: { family: 'mlp', inputDim: 13, hidden: [8] } }),
      trainTask({ round: 2, training: { ...trainTask().training, localSteps: 51 } }),
      trainTask({ round: 3, deadlineAt: Date.now() - 1 }),
      trainTask({ round: 4, model: { family: 'logistic-regression', inputDim: 12 } }),
    ];
    // Approved by the operator, and still refused by the hospital's own policy where it says so.
    tasks.forEach((t) => approve(n, t));
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, tasks[0], zeroWeights());
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('not-approved');
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, tasks[1], zeroWeights());
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('not-approved');
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, tasks[2], zeroWeights());
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('stale-task');
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, tasks[3], zeroWeights().map((w, i) => (i === 0 ? { shape: [12, 1], data: new Float32Array(12) } : w)));
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('schema-mismatch');
    coordinator.send<EvaluateTaskBody>(MessageKind.EvaluateTask, evaluateTask(tasks[2]), zeroWeights());
    const result = coordinator.open<EvaluateResultBody>(await coordinator.next(Events.EvaluateResult));
    expect(result).toEqual({ studyId: 'study-1', round: 3, modelVersion: 1, suppressed: true, numExamples: 16 });
    expect(coordinator.received.filter((r) => r.event === Events.TrainResult)).toHaveLength(0);
  });

  it('runs nothing whose exact manifest its operator has not approved, and records every decision', async () => {
    const coordinator = new ScriptedCoordinator();
    servers.push(coordinator);
    await coordinator.listen();
    const { node: n } = await node(coordinator, 'approver');
    await until(() => n.client.ready);
    const task = trainTask();
    const sha = manifestSha256(task.manifest);
    // Not approved: declined, and kept for the operator to review.
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, task, zeroWeights());
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('not-approved');
    expect(n.client.approvals.listPending().map((p) => p.manifestSha256)).toEqual([sha]);
    // Approved: the same task runs.
    approve(n, task);
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, { ...task, round: 2 }, zeroWeights());
    await coordinator.next(Events.TrainResult);
    // One epoch more than approved is another manifest; a task that strays from its own manifest is refused too.
    const moreSteps = trainTask({ round: 3, training: { ...task.training, localSteps: 21 } });
    expect(manifestSha256(moreSteps.manifest)).not.toBe(sha);
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, moreSteps, zeroWeights());
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('not-approved');
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, { ...moreSteps, manifest: task.manifest }, zeroWeights());
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('not-approved');
    // Revoked: declined again.
    n.client.approvals.revoke(sha, 'test-operator');
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, { ...task, round: 4 }, zeroWeights());
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('not-approved');
    await n.stop();
    running.splice(running.indexOf(n), 1);
    const events = readAuditLog(n.auditLogPath).map((e) => `${e.event}${e.details['manifestSha256'] === sha ? ':same' : ''}`);
    expect(events).toEqual(expect.arrayContaining(['manifest.declined:same', 'manifest.approved:same', 'manifest.revoked:same']));
    expect(events.filter((e) => e === 'message.sent').length).toBeGreaterThanOrEqual(6);
  });

  it('approves by its local policy what the policy covers, and says so in its audit log', async () => {
    const coordinator = new ScriptedCoordinator();
    servers.push(coordinator);
    await coordinator.listen();
    const autoApprove = { datasets: ['fed-heart-disease' as const], modelFamilies: ['logistic-regression' as const], strategies: ['fedavg' as const], maxRounds: 20, maxLocalSteps: 100 };
    const { node: n } = await node(coordinator, 'auto', 'hungarian', { autoApprove });
    await until(() => n.client.ready);
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, trainTask(), zeroWeights());
    await coordinator.next(Events.TrainResult);
    // Outside the policy (an MLP): needs an operator.
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, trainTask({ round: 2, model: { family: 'mlp', inputDim: 13, hidden: [8] } }), zeroWeights());
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('not-approved');
    await until(() => readAuditLog(n.auditLogPath).some((e) => e.event === 'manifest.approved'));
    expect(readAuditLog(n.auditLogPath).find((e) => e.event === 'manifest.approved')?.details).toMatchObject({ by: 'policy' });
  });

  it('enforces its own privacy budget: clips and noises updates, declines past its limit, remembers after a restart', async () => {
    const coordinator = new ScriptedCoordinator();
    servers.push(coordinator);
    await coordinator.listen();
    const privacy = { maxEpsilonPerStudy: 8, maxEpsilonTotal: 6, delta: 1e-5 };
    const { node: n } = await node(coordinator, 'private', 'cleveland', { privacy });
    await until(() => n.client.ready);
    const dpTask = (studyId: string, round: number, noiseMultiplier: number): TrainTaskBody => {
      const base = trainTask({ studyId, round, training: { localSteps: 20, batchSize: 512, learningRate: 0.3, optimizer: 'sgd', l2: 0, proximalMu: 0 } });
      const manifest = studyManifest(studyId, { ...base.manifest.spec, rounds: 3, dp: { noiseMultiplier, clipNorm: 0.1, placement: 'split' } });
      n.client.approvals.approve(manifest, 'test-operator');
      return { ...base, manifest, participants: 4 };
    };
    // A manifest promising more than the per-study limit is declined before anything runs.
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, dpTask('too-loose', 1, 0.3), zeroWeights());
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('budget-exhausted');
    // Study A: 3 rounds at z = 1.5 fit its own limit; each update is clipped to C = 0.1 before noise.
    const promised = new PrivacyAccountant({ noiseMultiplier: 1.5, clipNorm: 0.1, samplingRate: 1, delta: 1e-5, rounds: 3, noisePlacement: 'split' }).totalEpsilon();
    expect(promised).toBeLessThan(8);
    for (let r = 1; r <= 3; r++) {
      coordinator.send<TrainTaskBody>(MessageKind.TrainTask, dpTask('study-a', r, 1.5), zeroWeights());
      const opened = coordinator.codec.decode<TrainResultBody>(await coordinator.next(Events.TrainResult), { isKnownSender: () => true });
      expect(opened.tensors.length).toBe(2);
    }
    expect(n.client.ledger.spent('study-a')).toBeCloseTo(promised, 6);
    // Study B would take the node past its total limit of 6: the round that would do so is declined.
    let declined = 0;
    for (let r = 1; r <= 3 && declined === 0; r++) {
      coordinator.send<TrainTaskBody>(MessageKind.TrainTask, dpTask('study-b', r, 1.5), zeroWeights());
      const answer = await Promise.race([coordinator.next(Events.TrainResult).then(() => 'trained'), coordinator.next(Events.TaskDeclined).then((f) => coordinator.open<TaskDeclinedBody>(f).reason)]);
      if (answer === 'budget-exhausted') declined = r;
    }
    expect(declined).toBeGreaterThan(0);
    expect(n.client.ledger.spent()).toBeLessThanOrEqual(6);
    const spentBefore = n.client.ledger.spent();
    const events = readAuditLog(n.auditLogPath).filter((e) => e.event === 'privacy.spent');
    expect(events.length).toBe(3 + declined - 1);
    // A restarted node remembers what it spent.
    await n.stop();
    running.splice(running.indexOf(n), 1);
    const reopened = PrivacyBudgetLedger.open(join(dir, 'private', 'state', 'privacy-ledger.json'), privacy);
    expect(reopened.spent()).toBeCloseTo(spentBefore, 9);
  }, 30_000);

  it('refuses an impostor that does not hold the pinned coordinator key', async () => {
    const impostor = new ScriptedCoordinator(generateIdentity());
    servers.push(impostor);
    await impostor.listen();
    const { node: n, logger } = await node(impostor, 'pinned');
    await until(() => logger.lines.some((l) => l.event === 'message.rejected'));
    expect(n.client.ready).toBe(false);
    expect(logger.lines.find((l) => l.event === 'message.rejected')?.fields).toMatchObject({ event: Events.Welcome, code: 'UNKNOWN_SENDER' });
  });

  it('reconnects by itself after the coordinator restarts, and says hello again', async () => {
    const first = new ScriptedCoordinator();
    await first.listen();
    const { node: n } = await node(first, 'reconnector');
    await until(() => n.client.ready);
    const port = first.port;
    await first.close();
    await until(() => !n.client.ready);
    const second = new ScriptedCoordinator();
    Object.assign(second, { identity: first.identity, codec: first.codec });
    servers.push(second);
    await second.listen(port);
    await until(() => n.client.ready, 15_000);
    expect(second.received.filter((r) => r.event === Events.Hello)).toHaveLength(1);
  }, 30_000);
});
