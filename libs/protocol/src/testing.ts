import { studyManifest } from './study-manifest';
import { Identity, defaultSealer, defaultSigner, randomBytes, sha256, toBase64 } from '@medfed/crypto';
import { EnvelopeHeader } from './dto/envelope-header.dto';
import { FRAME_MAGIC } from './envelope';
import { MessageKind, PROTOCOL_VERSION, mustBeSealed } from './message-kind';
import { StudySpec } from './study';
import { WeightTensor } from './tensor-codec';
import type { BodyForKind } from './validation';

/**
 * Test fixtures for code that speaks the protocol: one valid body per message kind and a valid
 * study spec. Each call returns fresh objects, so tests may mutate them.
 */

const KEY_32 = Buffer.alloc(32, 7).toString('base64');
const NONCE_16 = Buffer.alloc(16, 9).toString('base64');

/** A valid study spec (logistic regression on Fed-Heart-Disease, FLamby's FedAvg recipe). */
export function sampleStudySpec(): StudySpec {
  return {
    name: 'heart disease baseline',
    dataset: 'fed-heart-disease',
    model: { family: 'logistic-regression', inputDim: 13 },
    training: { localSteps: 100, batchSize: 4, learningRate: 0.001, optimizer: 'sgd', l2: 0, proximalMu: 0 },
    strategy: 'fedavg',
    rounds: 15,
    minSites: 4,
    roundTimeoutSeconds: 60,
    seed: 42,
  };
}

/**
 * A valid body for `kind`.
 * @param kind the message kind.
 */
export function sampleBody<K extends MessageKind>(kind: K): BodyForKind[K] {
  const bodies: { [Q in MessageKind]: () => BodyForKind[Q] } = {
    [MessageKind.Hello]: () => ({
      nodeName: 'hospital-a',
      encryptionPublicKey: KEY_32,
      softwareVersion: '0.1.0',
      backend: 'wasm',
      protocolVersion: 1,
    }),
    [MessageKind.Welcome]: () => ({
      nodeId: 'node-1',
      coordinatorEncryptionPublicKey: KEY_32,
      helloNonce: NONCE_16,
      maxFrameBytes: 16 * 1024 * 1024,
    }),
    [MessageKind.TrainTask]: () => ({
      studyId: 'study-1',
      round: 1,
      modelVersion: 0,
      dataset: 'fed-heart-disease',
      model: { family: 'mlp', inputDim: 13, hidden: [16, 8], dropout: 0.1 },
      training: { localSteps: 100, batchSize: 4, learningRate: 0.001, optimizer: 'sgd', l2: 0, proximalMu: 0 },
      deadlineAt: 1_700_000_060_000,
      manifest: studyManifest('study-1', sampleStudySpec()),
    }),
    [MessageKind.EvaluateTask]: () => ({
      studyId: 'study-1',
      round: 1,
      modelVersion: 1,
      dataset: 'fed-heart-disease',
      model: { family: 'logistic-regression', inputDim: 13 },
      manifest: studyManifest('study-1', sampleStudySpec()),
    }),
    [MessageKind.TrainResult]: () => ({
      studyId: 'study-1',
      round: 1,
      modelVersion: 0,
      numExamples: 199,
      meanLoss: 0.61,
      durationMs: 41.5,
      backend: 'wasm',
    }),
    [MessageKind.EvaluateResult]: () => ({
      studyId: 'study-1',
      round: 1,
      modelVersion: 1,
      suppressed: false,
      numExamples: 50,
      numCorrect: 37,
      lossSum: 27.3,
      truePositives: 20,
      falsePositives: 8,
      trueNegatives: 17,
      falseNegatives: 5,
    }),
    [MessageKind.TaskDeclined]: () => ({ studyId: 'study-1', round: 1, reason: 'budget-exhausted' }),
    [MessageKind.Rejected]: () => ({ code: 'BAD_SIGNATURE', message: 'signature does not verify', refersToNonce: NONCE_16 }),
    [MessageKind.Receipt]: () => ({
      studyId: 'study-1',
      round: 1,
      nodeId: 'node-1',
      frameSha256: 'ab'.repeat(32),
      numExamples: 199,
      receivedAt: 1_700_000_030_000,
    }),
    [MessageKind.SecAggUp]: () => ({ studyId: 'study-1', round: 1, modelVersion: 0, session: 1, step: 'advertise' as const, payload: '{}' }),
    [MessageKind.SecAggDown]: () => ({ studyId: 'study-1', round: 1, modelVersion: 0, session: 1, step: 'keys' as const, payload: '[]' }),
    [MessageKind.StatisticsTask]: () => ({
      studyId: 'study-1',
      round: 1,
      modelVersion: 0,
      dataset: 'physionet-2012',
      manifest: studyManifest('study-1', sampleStudySpec()),
      deadlineAt: 1_700_000_060_000,
    }),
    [MessageKind.StatisticsResult]: () => ({
      studyId: 'study-1',
      round: 1,
      modelVersion: 0,
      suppressed: false,
      numExamples: 120,
      count: [120, 80],
      sum: [8400, 2960.5],
      sumSquares: [600000, 112000],
    }),
  };
  return bodies[kind]() as BodyForKind[K];
}

/**
 * The tensor blob layout of encodeTensors, written independently and WITHOUT any check (NaN,
 * Infinity and shape/data mismatches pass through), to build frames a receiver must refuse.
 */
export function encodeTensorsUnchecked(tensors: readonly WeightTensor[]): Uint8Array {
  const chunks: Buffer[] = [];
  let length = 0;
  const push = (chunk: Buffer): void => {
    chunks.push(chunk);
    length += chunk.length;
  };
  const u32le = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  push(u32le(tensors.length));
  for (const tensor of tensors) {
    push(Buffer.from([tensor.shape.length]));
    for (const d of tensor.shape) push(u32le(d));
    push(Buffer.alloc((4 - (length % 4)) % 4));
    const data = Buffer.alloc(4 * tensor.data.length);
    tensor.data.forEach((x, i) => data.writeFloatLE(x, 4 * i));
    push(data);
  }
  return Buffer.concat(chunks);
}

/** Options for {@link craftFrame}. */
export interface CraftFrameOptions {
  sender: Identity;
  recipient: { signingPublicKey: Uint8Array; encryptionPublicKey?: Uint8Array };
  kind: MessageKind;
  /** Serialised as is, never validated; a string is used verbatim as the body text. */
  body: unknown;
  /** Encoded with {@link encodeTensorsUnchecked}. */
  tensors?: readonly WeightTensor[];
  /** A raw tensor blob; wins over `tensors`. */
  tensorBlob?: Uint8Array;
  /** Header fields to override or add (e.g. `sentAt`, `v`, `nonce`, unknown fields). */
  header?: Partial<Record<keyof EnvelopeHeader, unknown>> & Record<string, unknown>;
  /** Seal the payload to recipient.encryptionPublicKey. Default: the kind's policy. */
  seal?: boolean;
}

/**
 * Builds a correctly signed (and, if asked, correctly sealed) frame from unchecked parts: the test
 * double of a buggy or malicious peer whose frames EnvelopeCodec.encode would refuse to produce,
 * e.g. NaN weights, an invalid body, a wrong header. Uses the default signer and sealer.
 */
export function craftFrame(opts: CraftFrameOptions): Buffer {
  const body = opts.body as { studyId?: unknown; round?: unknown } | null;
  const seal = opts.seal ?? mustBeSealed(opts.kind);
  const header = {
    v: PROTOCOL_VERSION,
    kind: opts.kind,
    sender: toBase64(opts.sender.signing.publicKey),
    recipient: toBase64(opts.recipient.signingPublicKey),
    studyId: typeof body?.studyId === 'string' ? body.studyId : null,
    round: typeof body?.round === 'number' ? body.round : null,
    nonce: toBase64(randomBytes(16)),
    sentAt: Date.now(),
    sealed: seal,
    ...opts.header,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const bodyBytes = Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body), 'utf8');
  const bodyLength = Buffer.alloc(4);
  bodyLength.writeUInt32BE(bodyBytes.length);
  const plaintext = Buffer.concat([bodyLength, bodyBytes, opts.tensorBlob ?? encodeTensorsUnchecked(opts.tensors ?? [])]);
  let payload: Uint8Array = plaintext;
  if (seal) {
    if (!opts.recipient.encryptionPublicKey) throw new TypeError('craftFrame: seal needs recipient.encryptionPublicKey');
    payload = defaultSealer.seal(plaintext, opts.recipient.encryptionPublicKey, headerBytes);
  }
  const lengths = Buffer.alloc(8);
  lengths.writeUInt32BE(headerBytes.length, 0);
  lengths.writeUInt32BE(payload.length, 4);
  const prefix = Buffer.concat([FRAME_MAGIC, lengths.subarray(0, 4), headerBytes, lengths.subarray(4), payload]);
  return Buffer.concat([prefix, defaultSigner.sign(sha256(prefix), opts.sender.signing.secretKey)]);
}
