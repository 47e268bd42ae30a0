/**
 * One demo round, split into its parts and timed side by side in one run:
 *   local training (4 hospitals, TensorFlow.js on the node's backend),
 *   encryption + signing (the node's sealed TrainResult) and verification + decryption (coordinator),
 *   transport (Socket.IO on loopback, binary frames, node → coordinator),
 *   aggregation (FedAvg over the four deltas).
 * Prints each part's median and its share of the round. Shares, not absolute times, are what hold on
 * a shared machine.
 *
 *   npm run bench:round [-- --repeats 20 --backend wasm]
 */
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io } from 'socket.io-client';
import { fedAvg } from '@medfed/aggregation';
import { generateIdentity } from '@medfed/crypto';
import { HEART_DISEASE_CENTERS } from '@medfed/data';
import { heartDemoStudy } from '@medfed/demo';
import { BackendPreference, TabularClassifier, initBackend } from '@medfed/models';
import { LocalTrainer, loadLocalData } from '@medfed/node-runtime';
import { EnvelopeCodec, Events, MessageKind, TrainResultBody, TrainTaskBody, WeightTensor, studyManifest } from '@medfed/protocol';
import { join } from 'node:path';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const repeats = Number(arg('repeats', '20'));
  const backend = await initBackend(arg('backend', 'auto') as BackendPreference);
  const spec = heartDemoStudy();
  const dataDir = join(__dirname, '..', 'data', 'fed-heart-disease');
  const trainers = HEART_DISEASE_CENTERS.map((center) => new LocalTrainer(loadLocalData({ dataset: 'fed-heart-disease', path: dataDir, center }), center));
  const coordinator = generateIdentity();
  const nodes = trainers.map(() => generateIdentity());
  const coordinatorCodec = new EnvelopeCodec({ identity: coordinator, maxFrameBytes: 1 << 24 });
  const nodeCodecs = nodes.map((identity) => new EnvelopeCodec({ identity, maxFrameBytes: 1 << 24 }));
  const initial = TabularClassifier.create(spec.model, spec.seed);
  let global: WeightTensor[] = initial.getWeights();
  initial.dispose();

  // A Socket.IO server and four clients on loopback, as in the demo.
  const http = createServer();
  const server = new Server(http, { maxHttpBufferSize: 1 << 24 });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  let onFrame: (frame: Buffer) => void = () => undefined;
  server.on('connection', (socket) => socket.on(Events.TrainResult, (frame: Buffer) => onFrame(frame)));
  const clients = await Promise.all(
    nodes.map(() => new Promise<ReturnType<typeof io>>((resolve) => {
      const c = io(url, { transports: ['websocket'] });
      c.on('connect', () => resolve(c));
    })),
  );

  let frameBytes = 0;
  const parts = { training: [] as number[], sealAndSign: [] as number[], verifyAndOpen: [] as number[], transport: [] as number[], aggregation: [] as number[] };
  for (let r = 0; r < repeats + 2; r++) {
    const task: TrainTaskBody = { studyId: 'bench', round: r + 1, modelVersion: r, dataset: 'fed-heart-disease', model: spec.model, training: spec.training, deadlineAt: Date.now() + 60_000, manifest: studyManifest('bench', spec) };
    // Local training, one hospital after another (as one core would).
    let t = performance.now();
    const results = [];
    for (const trainer of trainers) results.push(await trainer.train(task, global));
    const training = performance.now() - t;
    // Encryption and signing at the nodes.
    t = performance.now();
    const frames = results.map((res, i) =>
      nodeCodecs[i].encode<TrainResultBody>({
        kind: MessageKind.TrainResult,
        recipient: { signingPublicKey: coordinator.signing.publicKey, encryptionPublicKey: coordinator.encryption.publicKey },
        body: { studyId: 'bench', round: r + 1, modelVersion: r, numExamples: res.numExamples, meanLoss: res.meanLoss, durationMs: 1, backend: backend.name },
        tensors: res.delta,
        seal: true,
      }),
    );
    const sealAndSign = performance.now() - t;
    frameBytes = frames[0].length;
    // Transport: all four frames, emitted at once, until the server has them all.
    t = performance.now();
    const receivedFrames: Buffer[] = [];
    await new Promise<void>((resolve) => {
      onFrame = (frame) => {
        receivedFrames.push(frame);
        if (receivedFrames.length === frames.length) resolve();
      };
      frames.forEach((frame, i) => clients[i].emit(Events.TrainResult, frame));
    });
    const transport = performance.now() - t;
    // Verification and decryption at the coordinator.
    t = performance.now();
    const opened = receivedFrames.map((frame) => coordinatorCodec.decode<TrainResultBody>(frame, { isKnownSender: () => true }));
    const verifyAndOpen = performance.now() - t;
    // FedAvg.
    t = performance.now();
    const layers = fedAvg(global.map((g) => g.data), opened.map((o) => ({ delta: o.tensors.map((x) => x.data), numExamples: o.body.numExamples })));
    global = layers.map((data, i) => ({ shape: global[i].shape, data }));
    const aggregation = performance.now() - t;
    if (r >= 2) {
      // The first two rounds warm up the JIT and the backend.
      parts.training.push(training);
      parts.sealAndSign.push(sealAndSign);
      parts.verifyAndOpen.push(verifyAndOpen);
      parts.transport.push(transport);
      parts.aggregation.push(aggregation);
    }
  }
  for (const c of clients) c.disconnect();
  await new Promise<void>((r) => server.close(() => r()));

  const medians = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, median(v)])) as Record<keyof typeof parts, number>;
  const total = Object.values(medians).reduce((a, b) => a + b, 0);
  process.stdout.write(`one demo round (4 hospitals, logistic regression, ${spec.training.localSteps} local steps), backend ${backend.name}, median of ${repeats}\n\n`);
  process.stdout.write(`${'part'.padEnd(36)}${'ms'.padStart(9)}${'share'.padStart(9)}\n`);
  const label: Record<keyof typeof parts, string> = {
    training: 'local training (4 sites)',
    sealAndSign: 'encryption + signing (4 updates)',
    verifyAndOpen: 'verification + decryption (4)',
    transport: 'transport (Socket.IO, loopback)',
    aggregation: 'aggregation (FedAvg)',
  };
  for (const key of Object.keys(parts) as (keyof typeof parts)[]) {
    process.stdout.write(`${label[key].padEnd(36)}${medians[key].toFixed(2).padStart(9)}${((medians[key] / total) * 100).toFixed(1).padStart(8)}%\n`);
  }
  process.stdout.write(`${'total'.padEnd(36)}${total.toFixed(2).padStart(9)}\n`);
  process.stdout.write(`\nnot training: ${((1 - medians.training / total) * 100).toFixed(1)}% of the round; one sealed, signed update is ${frameBytes} bytes\n`);
}

void main();
