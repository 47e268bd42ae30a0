import { MessageKind } from './message-kind';
import { StudySpec } from './study';
import { BodyForKind } from './validation';

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
    }),
    [MessageKind.EvaluateTask]: () => ({
      studyId: 'study-1',
      round: 1,
      modelVersion: 1,
      dataset: 'fed-heart-disease',
      model: { family: 'logistic-regression', inputDim: 13 },
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
  };
  return bodies[kind]() as BodyForKind[K];
}
