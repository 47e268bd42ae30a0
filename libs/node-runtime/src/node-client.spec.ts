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
  decodeTensors,
} from '@medfed/protocol';
import { Identity, generateIdentity, keyFingerprint, sha256Hex, toBase64 } from '@medfed/crypto';
import { MemoryLogger } from '@medfed/observability';
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

  const trainTask = (overrides: Partial<TrainTaskBody> = {}): TrainTaskBody => ({
    studyId: 'study-1',
    round: 1,
    modelVersion: 0,
    dataset: 'fed-heart-disease',
    model: { family: 'logistic-regression', inputDim: 13 },
    training: { localSteps: 20, batchSize: 4, learningRate: 0.05, optimizer: 'sgd', l2: 0, proximalMu: 0 },
    deadlineAt: Date.now() + 60_000,
    ...overrides,
  });

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
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, trainTask(), zeroWeights());
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
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, trainTask({ model: { family: 'mlp', inputDim: 13, hidden: [8] } }), zeroWeights());
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('not-approved');
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, trainTask({ round: 2, training: { ...trainTask().training, localSteps: 51 } }), zeroWeights());
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('not-approved');
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, trainTask({ round: 3, deadlineAt: Date.now() - 1 }), zeroWeights());
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('stale-task');
    coordinator.send<TrainTaskBody>(MessageKind.TrainTask, trainTask({ round: 4, model: { family: 'logistic-regression', inputDim: 12 } }), zeroWeights().map((w, i) => (i === 0 ? { shape: [12, 1], data: new Float32Array(12) } : w)));
    expect(coordinator.open<TaskDeclinedBody>(await coordinator.next(Events.TaskDeclined)).reason).toBe('schema-mismatch');
    const evalTask: EvaluateTaskBody = { studyId: 'study-1', round: 1, modelVersion: 1, dataset: 'fed-heart-disease', model: { family: 'logistic-regression', inputDim: 13 } };
    coordinator.send<EvaluateTaskBody>(MessageKind.EvaluateTask, evalTask, zeroWeights());
    const result = coordinator.open<EvaluateResultBody>(await coordinator.next(Events.EvaluateResult));
    expect(result).toEqual({ studyId: 'study-1', round: 1, modelVersion: 1, suppressed: true, numExamples: 16 });
    expect(coordinator.received.filter((r) => r.event === Events.TrainResult)).toHaveLength(0);
  });

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
