import { MESSAGE_KINDS, MessageKind } from './message-kind';
import { ProtocolError } from './protocol-error';
import { sampleBody, sampleStudySpec } from './testing';
import { validateBody, validateHeader, validateStudySpec } from './validation';

const MISSING = Symbol('missing');
type Mutation = [path: string, value: unknown, label: string];

const b64 = (bytes: number, fill = 1): string => Buffer.alloc(bytes, fill).toString('base64');

/** Returns a deep copy of `base` with `path` set to `value` (or deleted for MISSING). */
function mutate(base: object, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(base) as Record<string, unknown>;
  const keys = path.split('.');
  let target = copy;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = keys[keys.length - 1];
  if (value === MISSING) delete target[last];
  else target[last] = value;
  return copy;
}

/** Every leaf path of an object, descending into nested objects but not arrays. */
function leafPaths(value: object, prefix = ''): Array<[string, unknown]> {
  return Object.entries(value).flatMap(([key, v]): Array<[string, unknown]> => {
    const path = prefix ? `${prefix}.${key}` : key;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? [[path, v], ...leafPaths(v, path)] : [[path, v]];
  });
}

function wrongTypeFor(value: unknown): unknown {
  if (typeof value === 'string') return 42;
  if (typeof value === 'number') return '7';
  if (typeof value === 'boolean') return 'true';
  return 'not-an-object';
}

// Fields whose absence is valid.
const OPTIONAL = new Set(['model.hidden', 'model.dropout', 'refersToNonce']);

function expectInvalid(act: () => unknown, path: string): ProtocolError {
  let caught: unknown;
  try {
    act();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  const error = caught as ProtocolError;
  expect(error.code).toBe('INVALID_BODY');
  expect(error.message).toContain(`${path}:`);
  return error;
}

/** Out-of-range and ill-formed values for each kind, beyond the generated missing/wrong-type/null cases. */
const RANGE_CASES: Record<MessageKind, Mutation[]> = {
  [MessageKind.Hello]: [
    ['nodeName', '', 'empty'],
    ['nodeName', 'a'.repeat(65), '65 chars'],
    ['nodeName', 'bad/name', 'a slash'],
    ['nodeName', 'tab\there', 'a tab'],
    ['encryptionPublicKey', b64(31), '31 bytes'],
    ['encryptionPublicKey', b64(33), '33 bytes'],
    ['encryptionPublicKey', b64(32).slice(0, -1), 'unpadded'],
    ['encryptionPublicKey', b64(32).replace(/A/g, '-'), 'url-safe/garbage letters'],
    ['encryptionPublicKey', ' ' + b64(32), 'leading whitespace'],
    ['softwareVersion', '', 'empty'],
    ['softwareVersion', 'v'.repeat(33), '33 chars'],
    ['backend', 'b'.repeat(33), '33 chars'],
    ['backend', 'wasm\n', 'a newline'],
    ['protocolVersion', 0, 'zero'],
    ['protocolVersion', 1.5, 'fractional'],
  ],
  [MessageKind.Welcome]: [
    ['nodeId', '', 'empty'],
    ['nodeId', 'n'.repeat(129), '129 chars'],
    ['nodeId', 'node 1', 'a space'],
    ['coordinatorEncryptionPublicKey', b64(16), '16 bytes'],
    ['helloNonce', b64(32), '32 bytes'],
    ['helloNonce', 'not base64!', 'garbage'],
    ['maxFrameBytes', 0, 'zero'],
    ['maxFrameBytes', -1, 'negative'],
    ['maxFrameBytes', 1.5, 'fractional'],
  ],
  [MessageKind.TrainTask]: [
    ['studyId', '', 'empty'],
    ['studyId', 's'.repeat(65), '65 chars'],
    ['studyId', 'a b', 'a space'],
    ['studyId', '../etc', 'path characters'],
    ['round', 0, 'zero'],
    ['round', 1.5, 'fractional'],
    ['modelVersion', -1, 'negative'],
    ['modelVersion', 0.5, 'fractional'],
    ['dataset', 'mnist', 'unknown dataset'],
    ['model', [], 'an array'],
    ['model.family', 'transformer', 'unknown family'],
    ['model.inputDim', 0, 'zero'],
    ['model.inputDim', 100_001, 'above 100000'],
    ['model.inputDim', 2.5, 'fractional'],
    ['model.hidden', [0], 'a zero-width layer'],
    ['model.hidden', [4097], 'a 4097-wide layer'],
    ['model.hidden', [1.5], 'a fractional width'],
    ['model.hidden', ['16'], 'a string width'],
    ['model.hidden', Array(9).fill(4), 'nine layers'],
    ['model.hidden', null, 'null'],
    ['model.dropout', 1, 'exactly 1'],
    ['model.dropout', -0.1, 'negative'],
    ['model.dropout', Number.NaN, 'NaN'],
    ['model.extra', 1, 'an unknown nested field'],
    ['training', 'sgd', 'a string'],
    ['training.localSteps', 0, 'zero'],
    ['training.localSteps', 100_001, 'above 100000'],
    ['training.batchSize', 0, 'zero'],
    ['training.batchSize', 65_537, 'above 65536'],
    ['training.learningRate', 0, 'zero'],
    ['training.learningRate', -0.1, 'negative'],
    ['training.learningRate', 10.5, 'above 10'],
    ['training.learningRate', Number.POSITIVE_INFINITY, 'Infinity'],
    ['training.optimizer', 'rmsprop', 'unknown optimizer'],
    ['training.l2', -1, 'negative'],
    ['training.proximalMu', -0.01, 'negative'],
    ['training.proximalMu', Number.NaN, 'NaN'],
    ['training.extra', true, 'an unknown nested field'],
    ['deadlineAt', -1, 'negative'],
    ['deadlineAt', 1.5, 'fractional'],
    ['deadlineAt', 9e15, 'beyond the Date range'],
  ],
  [MessageKind.EvaluateTask]: [
    ['studyId', 'a/b', 'a slash'],
    ['round', -1, 'negative'],
    ['modelVersion', -1, 'negative'],
    ['dataset', 'FED-HEART-DISEASE', 'wrong case'],
    ['model.family', 'MLP', 'wrong case'],
    ['model.inputDim', -3, 'negative'],
    ['training', { localSteps: 1 }, 'a field evaluate tasks do not have'],
  ],
  [MessageKind.TrainResult]: [
    ['studyId', '', 'empty'],
    ['round', 0, 'zero'],
    ['modelVersion', -1, 'negative'],
    ['numExamples', 0, 'zero'],
    ['numExamples', 2.5, 'fractional'],
    ['meanLoss', Number.NaN, 'NaN'],
    ['meanLoss', Number.NEGATIVE_INFINITY, '-Infinity'],
    ['durationMs', -1, 'negative'],
    ['backend', '', 'empty'],
    ['backend', 'x'.repeat(33), '33 chars'],
  ],
  [MessageKind.EvaluateResult]: [
    ['studyId', 's'.repeat(65), '65 chars'],
    ['round', 0, 'zero'],
    ['modelVersion', 1.5, 'fractional'],
    ['numExamples', -1, 'negative'],
    ['numExamples', 51, 'not TP+FP+TN+FN'],
    ['numCorrect', 36, 'not TP+TN'],
    ['numCorrect', -1, 'negative'],
    ['lossSum', -0.5, 'negative'],
    ['lossSum', Number.POSITIVE_INFINITY, 'Infinity'],
    ['truePositives', 2.5, 'fractional'],
    ['falsePositives', -8, 'negative'],
    ['trueNegatives', -17, 'negative'],
    ['falseNegatives', -5, 'negative'],
  ],
  [MessageKind.TaskDeclined]: [
    ['studyId', 'x y', 'a space'],
    ['round', 0, 'zero'],
    ['reason', 'tired', 'unknown reason'],
    ['reason', 'Busy', 'wrong case'],
  ],
  [MessageKind.Rejected]: [
    ['code', '', 'empty'],
    ['code', 'bad_signature', 'lower case'],
    ['code', 'A'.repeat(65), '65 chars'],
    ['message', 'm'.repeat(501), '501 chars'],
    ['refersToNonce', b64(15), '15 bytes'],
    ['refersToNonce', null, 'null'],
  ],
  [MessageKind.Receipt]: [
    ['studyId', '', 'empty'],
    ['round', 0, 'zero'],
    ['nodeId', '', 'empty'],
    ['frameSha256', 'AB'.repeat(32), 'upper-case hex'],
    ['frameSha256', 'ab'.repeat(31) + 'a', '63 chars'],
    ['frameSha256', 'zz'.repeat(32), 'not hex'],
    ['numExamples', -1, 'negative'],
    ['receivedAt', -1, 'negative'],
    ['receivedAt', 0.5, 'fractional'],
  ],
  [MessageKind.SecAggUp]: [
    ['session', 0, 'zero'],
    ['step', 'keys', 'a step the coordinator sends'],
    ['round', 0, 'zero'],
  ],
  [MessageKind.SecAggDown]: [
    ['session', 1.5, 'fractional'],
    ['step', 'masked', 'a step a node sends'],
    ['modelVersion', -1, 'negative'],
  ],
  [MessageKind.StatisticsTask]: [
    ['dataset', 'mimic-iv', 'an unknown data set'],
    ['deadlineAt', -5, 'negative'],
  ],
  [MessageKind.StatisticsResult]: [
    ['count', [-1, 80], 'a negative count'],
    ['count', [1.5, 80], 'a fractional count'],
    ['sum', [1, 2, 3], 'one more feature than count'],
    ['sum', [Number.NaN, 2], 'NaN'],
    ['sumSquares', [-1, 5], 'negative'],
  ],
};

/** Generated cases: every field missing (unless optional), of the wrong type, and null. */
function generatedCases(kind: MessageKind): Mutation[] {
  return leafPaths(sampleBody(kind)).flatMap(([path, value]): Mutation[] => [
    ...(OPTIONAL.has(path) ? [] : [[path, MISSING, 'missing'] as Mutation]),
    [path, wrongTypeFor(value), `of type ${typeof wrongTypeFor(value)}`],
    [path, null, 'null'],
  ]);
}

describe('validateBody', () => {
  describe.each(MESSAGE_KINDS)('%s', (kind) => {
    it('accepts the sample body and returns it unchanged', () => {
      // Arrange
      const body = sampleBody(kind);

      // Act
      const result = validateBody(kind, body);

      // Assert
      expect(result).toBe(body);
    });

    it.each([...generatedCases(kind), ...RANGE_CASES[kind]])('rejects %s when %p (%s)', (path, value) => {
      // Arrange
      const body = mutate(sampleBody(kind), path, value);

      // Act + Assert
      expectInvalid(() => validateBody(kind, body), path);
    });

    it('rejects an unknown top-level field', () => {
      const body = { ...sampleBody(kind), unexpected: 1 };

      const error = expectInvalid(() => validateBody(kind, body), 'unexpected');

      expect(error.message).toContain('unexpected: unknown field');
    });

    it.each(['__proto__', 'constructor'])('rejects a %s key from JSON', (key) => {
      const body = JSON.parse(`{${JSON.stringify(key)}:{"x":1},${JSON.stringify(sampleBody(kind)).slice(1)}`) as unknown;

      expectInvalid(() => validateBody(kind, body), key);
    });

    it.each([null, [], 'body', 42, true, undefined])('rejects a non-object body %p', (plain) => {
      expect(() => validateBody(kind, plain)).toThrow(expect.objectContaining({ code: 'INVALID_BODY' }));
    });
  });

  describe('values at the edges of their ranges', () => {
    it.each<[MessageKind, string, unknown]>([
      [MessageKind.Hello, 'nodeName', 'A'.repeat(64)],
      [MessageKind.Hello, 'nodeName', 'St. Mary_s - 2'],
      [MessageKind.TrainTask, 'studyId', 'a'.repeat(64)],
      [MessageKind.TrainTask, 'model.inputDim', 100_000],
      [MessageKind.TrainTask, 'model.hidden', Array(8).fill(4096)],
      [MessageKind.TrainTask, 'model.hidden', MISSING],
      [MessageKind.TrainTask, 'model.dropout', 0],
      [MessageKind.TrainTask, 'model.dropout', 0.999],
      [MessageKind.TrainTask, 'model.dropout', MISSING],
      [MessageKind.TrainTask, 'training.learningRate', 10],
      [MessageKind.TrainTask, 'training.batchSize', 65_536],
      [MessageKind.TrainTask, 'training.localSteps', 100_000],
      [MessageKind.TrainResult, 'meanLoss', -3.5],
      [MessageKind.TrainResult, 'durationMs', 0],
      [MessageKind.Rejected, 'message', ''],
      [MessageKind.Rejected, 'refersToNonce', MISSING],
      [MessageKind.Receipt, 'numExamples', 0],
    ])('%s accepts %s = %p', (kind, path, value) => {
      const body = mutate(sampleBody(kind), path, value);

      expect(() => validateBody(kind, body)).not.toThrow();
    });

    it('accepts logistic regression with an empty hidden list but not with layers', () => {
      const empty = mutate(sampleBody(MessageKind.EvaluateTask), 'model.hidden', []);
      const layers = mutate(sampleBody(MessageKind.EvaluateTask), 'model.hidden', [8]);

      expect(() => validateBody(MessageKind.EvaluateTask, empty)).not.toThrow();
      expectInvalid(() => validateBody(MessageKind.EvaluateTask, layers), 'model.hidden');
    });
  });

  describe('evaluate-result suppression', () => {
    const suppressed = { studyId: 'study-1', round: 1, modelVersion: 1, suppressed: true, numExamples: 3 };

    it('accepts a suppressed result carrying only the count', () => {
      expect(validateBody(MessageKind.EvaluateResult, suppressed)).toEqual(suppressed);
    });

    it.each(['numCorrect', 'lossSum', 'truePositives', 'falsePositives', 'trueNegatives', 'falseNegatives'])(
      'rejects a suppressed result that also carries %s',
      (field) => {
        const body = { ...suppressed, [field]: 0 };

        const error = expectInvalid(() => validateBody(MessageKind.EvaluateResult, body), field);

        expect(error.message).toContain('must be absent when suppressed is true');
      },
    );

    it('reports a count that breaks both identities on numExamples and numCorrect', () => {
      const body = { ...sampleBody(MessageKind.EvaluateResult), trueNegatives: 1000 };

      const error = expectInvalid(() => validateBody(MessageKind.EvaluateResult, body), 'numExamples');

      expect(error.message).toContain('numCorrect: must equal truePositives + trueNegatives');
    });

    it('accepts a zero-patient unsuppressed result whose counts are all zero', () => {
      const body = { ...suppressed, suppressed: false, numExamples: 0, numCorrect: 0, lossSum: 0, truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 };

      expect(() => validateBody(MessageKind.EvaluateResult, body)).not.toThrow();
    });
  });

  describe('error messages', () => {
    it('name the field but never echo the offending value', () => {
      const body = { ...sampleBody(MessageKind.Hello), nodeName: 'PATIENT/4711 Jane Doe' };

      const error = expectInvalid(() => validateBody(MessageKind.Hello, body), 'nodeName');

      expect(error.message).not.toContain('4711');
      expect(error.message).not.toContain('Jane');
    });

    it('do not echo an unprintable unknown field name', () => {
      const body = { ...sampleBody(MessageKind.Receipt), 'Jane Doe <dob 1970-01-01>': 1 };

      const error = expectInvalid(() => validateBody(MessageKind.Receipt, body), '(unprintable field name)');

      expect(error.message).not.toContain('Jane');
    });

    it('list every bad field at once', () => {
      const body = { ...sampleBody(MessageKind.TrainResult), round: 0, numExamples: -2, backend: '' };

      const error = expectInvalid(() => validateBody(MessageKind.TrainResult, body), 'round');

      expect(error.message).toContain('numExamples:');
      expect(error.message).toContain('backend:');
      expect(error.message).not.toContain('studyId:');
    });
  });

  it('refuses an unknown kind', () => {
    expect(() => validateBody('gossip' as MessageKind, {})).toThrow(expect.objectContaining({ code: 'UNEXPECTED_KIND' }));
  });
});

describe('validateStudySpec', () => {
  it('accepts the sample spec', () => {
    const spec = sampleStudySpec();

    expect(validateStudySpec(spec)).toBe(spec);
  });

  const cases: Mutation[] = [
    ...leafPaths(sampleStudySpec()).flatMap(([path, value]): Mutation[] => [
      [path, MISSING, 'missing'],
      [path, wrongTypeFor(value), 'of the wrong type'],
      [path, null, 'null'],
    ]),
    ['name', '', 'empty'],
    ['name', 'n'.repeat(101), '101 chars'],
    ['name', 'line\nbreak', 'a control character'],
    ['dataset', 'mnist', 'unknown'],
    ['strategy', 'fedsgd', 'unknown'],
    ['rounds', 0, 'zero'],
    ['rounds', 10_001, 'above 10000'],
    ['minSites', 0, 'zero'],
    ['minSites', 1001, 'above 1000'],
    ['roundTimeoutSeconds', 0, 'zero'],
    ['roundTimeoutSeconds', 86_401, 'above a day'],
    ['seed', 1.5, 'fractional'],
    ['model.family', 'transformer', 'unknown'],
    ['model.hidden', [16], 'layers on logistic regression'],
    ['training.optimizer', 'adagrad', 'unknown'],
    ['training.learningRate', 11, 'above 10'],
    ['extra', 1, 'an unknown field'],
    ['model.extra', 1, 'an unknown nested field'],
    ['siteFraction', 0, 'zero'],
    ['siteFraction', 1.5, 'above 1'],
    ['maxRoundRetries', -1, 'negative'],
    ['maxRoundRetries', 2.5, 'fractional'],
    ['strategyConfig', 'adam', 'not an object'],
    ['strategyConfig.beta1', 1, 'equal to 1'],
    ['strategyConfig.trimFraction', 0.5, 'half'],
    ['strategyConfig.serverLearningRate', 0, 'zero'],
    ['strategyConfig.byzantine', -1, 'negative'],
    ['strategyConfig.extra', 1, 'an unknown nested field'],
  ];

  it.each(cases)('rejects %s when %p (%s)', (path, value) => {
    const spec = mutate({ ...sampleStudySpec(), strategyConfig: {} }, path, value);

    expectInvalid(() => validateStudySpec(spec), path);
  });

  it('names every bad field in one error', () => {
    const spec = { ...sampleStudySpec(), rounds: 0, minSites: 0, strategy: 'x', training: { ...sampleStudySpec().training, batchSize: 0 } };

    const error = expectInvalid(() => validateStudySpec(spec), 'rounds');

    for (const path of ['minSites:', 'strategy:', 'training.batchSize:']) expect(error.message).toContain(path);
  });

  it.each([[-5], [0], [2 ** 31]])('accepts seed %p', (seed) => {
    expect(() => validateStudySpec({ ...sampleStudySpec(), seed })).not.toThrow();
  });

  it('accepts train-on-synthetic settings', () => {
    expect(() => validateStudySpec({ ...sampleStudySpec(), syntheticEvaluation: { samples: 65536, steps: 3000 } })).not.toThrow();
  });

  it.each([
    [{ samples: 0, steps: 10 }, 'syntheticEvaluation.samples'],
    [{ samples: 2 ** 21, steps: 10 }, 'syntheticEvaluation.samples'],
    [{ samples: 10, steps: 1.5 }, 'syntheticEvaluation.steps'],
    [{ samples: 10 }, 'syntheticEvaluation.steps'],
    [{ samples: 10, steps: 10, extra: 1 }, 'syntheticEvaluation.extra'],
  ])('rejects train-on-synthetic settings %p, naming %s', (syntheticEvaluation, path) => {
    expectInvalid(() => validateStudySpec({ ...sampleStudySpec(), syntheticEvaluation }), path);
  });

  it('accepts a generator phase, with or without its own batch size', () => {
    expect(() => validateStudySpec({ ...sampleStudySpec(), generatorPhase: { rounds: 30, localSteps: 200, batchSize: 128 } })).not.toThrow();
    expect(() => validateStudySpec({ ...sampleStudySpec(), generatorPhase: { rounds: 1, localSteps: 1 } })).not.toThrow();
  });

  it.each([
    [{ rounds: 0, localSteps: 10 }, 'generatorPhase.rounds'],
    [{ rounds: 10_001, localSteps: 10 }, 'generatorPhase.rounds'],
    [{ rounds: 5 }, 'generatorPhase.localSteps'],
    [{ rounds: 5, localSteps: 10, batchSize: 0 }, 'generatorPhase.batchSize'],
    [{ rounds: 5, localSteps: 10, learningRate: 1 }, 'generatorPhase.learningRate'],
  ])('rejects generator-phase settings %p, naming %s', (generatorPhase, path) => {
    expectInvalid(() => validateStudySpec({ ...sampleStudySpec(), generatorPhase }), path);
  });
});

describe('validateHeader', () => {
  const header = {
    v: 1,
    kind: 'hello',
    sender: b64(32, 1),
    recipient: b64(32, 2),
    studyId: null,
    round: null,
    nonce: b64(16, 3),
    sentAt: 1_700_000_000_000,
    sealed: false,
  };

  it('accepts a header without a study, and one with a study', () => {
    expect(() => validateHeader(header)).not.toThrow();
    expect(() => validateHeader({ ...header, studyId: 'study-1', round: 3 })).not.toThrow();
  });

  it.each<Mutation>([
    ['v', 1.5, 'fractional'],
    ['v', MISSING, 'missing'],
    ['kind', 'gossip', 'unknown kind'],
    ['sender', b64(31), '31 bytes'],
    ['recipient', MISSING, 'missing'],
    ['studyId', MISSING, 'missing rather than null'],
    ['studyId', 'a b', 'a space'],
    ['round', MISSING, 'missing rather than null'],
    ['round', 0, 'zero'],
    ['nonce', b64(15), '15 bytes'],
    ['sentAt', -1, 'negative'],
    ['sealed', 'false', 'a string'],
    ['extra', 1, 'an unknown field'],
  ])('rejects %s when %p (%s)', (path, value) => {
    expectInvalid(() => validateHeader(mutate(header, path, value)), path);
  });
});
