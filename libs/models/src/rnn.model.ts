import * as tf from '@tensorflow/tfjs';
import type { ArchitectureValue, ModelSpec, TrainingConfig } from '@medfed/protocol';
import type { ExampleSet, ShapedArray } from '@medfed/data';

import type { FederatedModel, ModelFamilyDefinition } from './federated-model';
import { createRng, deriveSeed, Rng, shuffleInPlace } from './seeded-rng.util';
import type { TrainOptions, TrainOutcome } from './tabular-classifier.model';
import { shapeSize, WeightTensor } from './weights.util';
import { refuseGeneratorOnly, validateTrainingConfig } from './training-config.util';
import { createOptimizer } from './heap-adam.optimizer';
import { fusedCellsAvailable, lstmCellFused, lstmCellOps } from './lstm-cell';

/** The wasm backend's heap access (tfjs-backend-wasm's BackendWasm), used by the slice kernels below. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * Copies `x[begin : begin + size]` into a new wasm tensor as runs of contiguous memory, reading the input in place.
 * The stock wasm Slice first copies the whole input out of the heap (`readSync`), so splitting an [n·48, k] tensor
 * into 48 steps copied it 48 times (≈ 0.5 ms per slice, 38 % of a GRU step's kernel time).
 */
function sliceInPlace(backend: WasmHeapBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  // Views only after makeOutput: an allocation may grow the wasm memory and detach earlier views.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (dst.length === 0) return out;
  if (rank === 0) {
    dst.set(src.subarray(0, 1));
    return out;
  }
  const strides = [...tf.util.computeStrides(x.shape), 1];
  // Trailing dimensions taken whole join the innermost run.
  let inner = rank - 1;
  let run = size[inner];
  while (inner > 0 && size[inner] === x.shape[inner]) {
    inner--;
    run *= size[inner];
  }
  const index = new Array<number>(inner).fill(0);
  const count = dst.length / run;
  for (let k = 0; k < count; k++) {
    let offset = begin[inner] * strides[inner];
    for (let d = 0; d < inner; d++) offset += (begin[d] + index[d]) * strides[d];
    dst.set(src.subarray(offset, offset + run), k * run);
    for (let d = inner - 1; d >= 0 && ++index[d] === size[d]; d--) index[d] = 0;
  }
  return out;
}

let sliceKernelsReplaced = false;

/**
 * Replaces the wasm backend's `Slice` and `SplitV` kernels by {@link sliceInPlace} (same results, no copy of the whole
 * input per slice); string tensors still go to the stock kernels. Idempotent; does nothing until
 * `@tensorflow/tfjs-backend-wasm` is loaded. Called by the rnn family, whose unrolled steps split tensors 100 times
 * per batch.
 */
export function registerWasmSliceKernels(): void {
  if (sliceKernelsReplaced) return;
  const stockSlice = tf.getKernel('Slice', 'wasm');
  const stockSplit = tf.getKernel('SplitV', 'wasm');
  if (!stockSlice || !stockSplit) return;
  const replace = (stock: tf.KernelConfig, kernelFunc: tf.KernelFunc) => {
    tf.unregisterKernel(stock.kernelName, 'wasm');
    tf.registerKernel({ ...stock, kernelFunc });
  };
  replace(stockSlice, (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return stockSlice.kernelFunc(args);
    const attrs = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin, attrs.size);
    return sliceInPlace(args.backend as WasmHeapBackend, x, begin, size);
  });
  replace(stockSplit, (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return stockSplit.kernelFunc(args);
    const attrs = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x, attrs.numOrSizeSplits, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const out = sliceInPlace(args.backend as WasmHeapBackend, x, [...begin], size);
      begin[axis] += s;
      return out;
    });
  });
  sliceKernelsReplaced = true;
}

/** Recurrent cell types of the `rnn` family. */
export type RnnCell = 'gru' | 'lstm';

/** The `rnn` family's settings, read from `ModelSpec.architecture` (defaults filled in by {@link rnnArchitecture}). */
export interface RnnArchitecture {
  /** `gru` (PyTorch's GRU equations, Cho et al. 2014) or `lstm` (Hochreiter & Schmidhuber 1997). Default `gru`. */
  cell: RnnCell;
  /** Hidden units. Default 64. */
  units: number;
  /** Dropout rate on the last hidden state (with the statics) before the output layer, in [0, 1). Default 0. */
  dropout: number;
  /**
   * GRU-D input decay (Che et al., Sci. Rep. 8:6085, 2018, eq. 3): a missing value is replaced by
   * γ·x_last + (1 − γ)·mean with γ = exp(−max(0, w ⊙ δ + b)) per variable; inputs are normalised so the mean is 0.
   * When false, a missing value is the mean (0). Default true.
   */
  inputDecay: boolean;
  /** GRU-D hidden decay (eq. 4): h ← exp(−max(0, W δ + b)) ⊙ h before every step. Default true. */
  hiddenDecay: boolean;
  /** Also feed the time gaps δ to the cell (the GRU-Simple baseline's inputs: x, mask, δ). Default false. */
  deltaInput: boolean;
  /** Number of static columns (`statics` input [n, S]) joined to the last hidden state; 0 = none. Default 0. */
  statics: number;
}

const ARCHITECTURE_DEFAULTS: RnnArchitecture = {
  cell: 'gru',
  units: 64,
  dropout: 0,
  inputDecay: true,
  hiddenDecay: true,
  deltaInput: false,
  statics: 0,
};

const ARCHITECTURE_KEYS = new Set(Object.keys(ARCHITECTURE_DEFAULTS));

/** Rows per forward pass in `predict` (bounds the memory of the 48-step unrolled graph). */
const PREDICT_BATCH = 512;

function describe(value: ArchitectureValue | undefined): string {
  return Array.isArray(value) ? `[${value.join(', ')}]` : typeof value === 'string' ? `'${value}'` : String(value);
}

/**
 * The `rnn` architecture of `spec` with defaults filled in.
 * @throws RangeError naming the field when `spec` is not a valid `rnn` spec: `inputShape` must be [steps, features]
 *   with `inputDim` = steps × features, a single output, and only the known `architecture` keys with valid values.
 */
export function rnnArchitecture(spec: ModelSpec): RnnArchitecture {
  if (spec.family !== 'rnn') throw new RangeError(`ModelSpec.family must be 'rnn', got '${String(spec.family)}'`);
  const shape = spec.inputShape;
  if (!shape || shape.length !== 2 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new RangeError(`ModelSpec.inputShape must be [steps, features] of positive integers for rnn, got ${shape ? `[${shape}]` : 'none'}`);
  }
  if (spec.inputDim !== shape[0] * shape[1]) {
    throw new RangeError(`ModelSpec.inputDim must be steps × features = ${shape[0] * shape[1]} for rnn, got ${spec.inputDim}`);
  }
  if ((spec.outputs ?? 1) !== 1) throw new RangeError(`ModelSpec.outputs must be 1 for rnn, got ${spec.outputs}`);
  const given = spec.architecture ?? {};
  const unknown = Object.keys(given).filter((k) => !ARCHITECTURE_KEYS.has(k));
  if (unknown.length > 0) throw new RangeError(`ModelSpec.architecture has unknown rnn setting(s) ${unknown.join(', ')}`);
  const a: RnnArchitecture = { ...ARCHITECTURE_DEFAULTS };
  const bad = (key: string): never => {
    throw new RangeError(`ModelSpec.architecture.${key} is invalid for rnn: ${describe(given[key])}`);
  };
  if (given.cell !== undefined) a.cell = given.cell === 'gru' || given.cell === 'lstm' ? given.cell : bad('cell');
  for (const key of ['units', 'statics'] as const) {
    const v = given[key];
    if (v !== undefined) a[key] = typeof v === 'number' && Number.isInteger(v) && v >= (key === 'units' ? 1 : 0) ? v : bad(key);
  }
  if (given.dropout !== undefined) {
    const v = given.dropout;
    a.dropout = typeof v === 'number' && v >= 0 && v < 1 ? v : bad('dropout');
  }
  for (const key of ['inputDecay', 'hiddenDecay', 'deltaInput'] as const) {
    const v = given[key];
    if (v !== undefined) a[key] = typeof v === 'boolean' ? v : bad(key);
  }
  return a;
}


/** One named weight: whether the l2 penalty applies (kernels yes, biases and decay rates no). */
interface NamedVariable {
  name: string;
  variable: tf.Variable;
  penalised: boolean;
}

/** A batch in time-major layout, as plain arrays (built outside tidy; tensors are made inside it). */
interface TimeMajorBatch {
  size: number;
  /** [steps, size, F] each. */
  values: Float32Array;
  mask: Float32Array;
  delta: Float32Array;
  /** Last observed (normalised) value at or before each step, 0 before the first observation. */
  last: Float32Array;
  /** [size, S]. */
  statics: Float32Array;
  /** [size, 1]. */
  labels: Float32Array;
}

/**
 * A recurrent binary classifier over multivariate time series with missing values: GRU-D (Che et al. 2018) — a GRU
 * or LSTM whose inputs are the values, their observation mask and (optionally) the time gaps δ, with GRU-D's trainable
 * input decay towards the mean and hidden-state decay — plus optional static inputs joined to the last hidden state,
 * and a sigmoid output. Example inputs: `values`, `mask`, `delta` [n, steps, F] (normalised values, 0 where missing),
 * optional `statics` [n, S]; labels [n, 1].
 *
 * For speed on the WebAssembly backend every step-independent computation runs once for all steps: the input decay,
 * the input projection of all 48 steps (one [n·steps, K] × [K, gates·units] matrix product) and the hidden-decay
 * rates; each recurrent step is then one fused [units, gates·units] matrix product and elementwise gate arithmetic.
 * Gradients come from tf.variableGrads through the unrolled steps.
 *
 * Weights (the wire order): [input decay w (F), b (F)] if inputDecay; [hidden decay W (F×H), b (H)] if hiddenDecay;
 * input kernel (K × G·H), input bias (G·H), recurrent kernel (H × G·H), [GRU: recurrent candidate bias (H)];
 * output kernel ((H + S) × 1), output bias (1) — G = 3 (GRU gates z, r, n) or 4 (LSTM gates i, f, o, g), K = 2F or 3F.
 */
export class RnnClassifier implements FederatedModel {
  private readonly vars: NamedVariable[];
  private readonly byName: Map<string, tf.Variable>;
  private disposed = false;
  readonly architecture: RnnArchitecture;
  private readonly steps: number;
  private readonly features: number;

  private constructor(
    readonly spec: ModelSpec,
    architecture: RnnArchitecture,
    vars: NamedVariable[],
  ) {
    this.architecture = architecture;
    this.vars = vars;
    this.byName = new Map(vars.map((v) => [v.name, v.variable]));
    [this.steps, this.features] = spec.inputShape as [number, number];
  }

  /**
   * Builds a model with deterministic initial weights: uniform ±1/√units for the recurrent cell (PyTorch's GRU/LSTM
   * default), ±1/√fan_in for the output layer, LSTM forget-gate bias 1 (Jozefowicz et al. 2015), input-decay rates
   * U(0, 0.5) so every rate starts on the active side of GRU-D's max(0, ·).
   * @param spec an `rnn` spec (see {@link rnnArchitecture}).
   * @param seed the same seed always gives the same weights.
   * @throws RangeError on an invalid spec.
   */
  static create(spec: ModelSpec, seed: number): RnnClassifier {
    const a = rnnArchitecture(spec);
    registerWasmSliceKernels();
    const [, F] = spec.inputShape as [number, number];
    const H = a.units;
    const G = a.cell === 'gru' ? 3 : 4;
    const K = (a.deltaInput ? 3 : 2) * F;
    const rng = createRng(deriveSeed(seed, 0x7e11));
    const uniform = (size: number, lo: number, hi: number) => Float32Array.from({ length: size }, () => lo + (hi - lo) * rng());
    const vars: NamedVariable[] = [];
    const add = (name: string, shape: number[], data: Float32Array, penalised: boolean) =>
      vars.push({ name, variable: tf.tidy(() => tf.variable(tf.tensor(data, shape), true)), penalised });
    const r = 1 / Math.sqrt(H);
    if (a.inputDecay) {
      add('inputDecayW', [F], uniform(F, 0, 0.5), false);
      add('inputDecayB', [F], new Float32Array(F), false);
    }
    if (a.hiddenDecay) {
      add('hiddenDecayW', [F, H], uniform(F * H, -1 / Math.sqrt(F), 1 / Math.sqrt(F)), true);
      add('hiddenDecayB', [H], new Float32Array(H), false);
    }
    add('inputKernel', [K, G * H], uniform(K * G * H, -r, r), true);
    const inputBias = uniform(G * H, -r, r);
    // LSTM gate order i, f, o, g: the forget gate's bias starts at 1 so the cell remembers from the start.
    if (a.cell === 'lstm') inputBias.fill(1, H, 2 * H);
    add('inputBias', [G * H], inputBias, false);
    add('recurrentKernel', [H, G * H], uniform(H * G * H, -r, r), true);
    if (a.cell === 'gru') add('candidateBias', [H], uniform(H, -r, r), false);
    const fanIn = H + a.statics;
    add('outputKernel', [fanIn, 1], uniform(fanIn, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)), true);
    add('outputBias', [1], uniform(1, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)), false);
    return new RnnClassifier({ ...spec, architecture: { ...spec.architecture } }, a, vars);
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('RnnClassifier has been disposed');
  }

  private v(name: string): tf.Variable {
    return this.byName.get(name) as tf.Variable;
  }

  /** Copies of the weights in the wire order of the class documentation. */
  getWeights(): WeightTensor[] {
    this.assertAlive();
    return this.vars.map(({ variable }) => ({ shape: [...variable.shape], data: Float32Array.from(variable.dataSync() as Float32Array) }));
  }

  /** @throws RangeError on a count, shape or length mismatch with getWeights(). */
  setWeights(weights: readonly WeightTensor[]): void {
    this.assertAlive();
    this.assertShapes(weights, 'setWeights');
    tf.tidy(() => weights.forEach((w, i) => this.vars[i].variable.assign(tf.tensor(Float32Array.from(w.data), this.vars[i].variable.shape))));
  }

  private assertShapes(weights: readonly WeightTensor[], what: string): void {
    if (weights.length !== this.vars.length) throw new RangeError(`${what}: got ${weights.length} tensors, model has ${this.vars.length}`);
    weights.forEach((w, i) => {
      const expected = this.vars[i].variable.shape;
      if (w.shape.length !== expected.length || w.shape.some((d, k) => d !== expected[k]) || w.data.length !== shapeSize(expected)) {
        throw new RangeError(`${what}: tensor ${i} (${this.vars[i].name}) is [${w.shape}] with ${w.data.length} values, expected [${expected}]`);
      }
    });
  }

  /** @throws RangeError naming the input when `set` lacks one or its shape does not match the spec. */
  private assertInputs(set: ExampleSet, what: string): void {
    const want = (name: string, shape: number[]) => {
      const input: ShapedArray | undefined = set.inputs[name];
      if (!input) throw new RangeError(`${what}: the example set has no '${name}' input (has ${Object.keys(set.inputs).join(', ') || 'none'})`);
      if (input.shape.length !== shape.length || input.shape.some((d, k) => d !== shape[k]) || input.data.length < shapeSize(shape)) {
        throw new RangeError(`${what}: input '${name}' is [${input.shape}], expected [${shape}]`);
      }
    };
    for (const name of ['values', 'mask', 'delta']) want(name, [set.n, this.steps, this.features]);
    if (this.architecture.statics > 0) want('statics', [set.n, this.architecture.statics]);
    if (set.labels.shape[0] !== set.n || set.labels.data.length < set.n) {
      throw new RangeError(`${what}: labels are [${set.labels.shape}], expected [${set.n}, 1]`);
    }
  }

  /** Logits [size, 1] of a time-major batch; dropout on the joined state when `dropoutSeed` is given. */
  private logits(b: TimeMajorBatch, dropoutSeed?: number): tf.Tensor2D {
    const a = this.architecture;
    const [T, F, H, n] = [this.steps, this.features, a.units, b.size];
    const x = tf.tensor2d(b.values, [T * n, F]);
    const m = tf.tensor2d(b.mask, [T * n, F]);
    const d = tf.tensor2d(b.delta, [T * n, F]);
    let xHat: tf.Tensor2D = x;
    if (a.inputDecay) {
      // Missing cells: γ·x_last + (1 − γ)·0, the mean of a normalised variable being 0 (GRU-D eq. 3).
      const gamma = tf.exp(tf.neg(tf.relu(tf.add(tf.mul(d, this.v('inputDecayW')), this.v('inputDecayB')))));
      xHat = tf.add(x, tf.mul(tf.sub(1, m), tf.mul(gamma, tf.tensor2d(b.last, [T * n, F]))));
    }
    const cellInput = tf.concat(a.deltaInput ? [xHat, m, d] : [xHat, m], 1);
    // All steps' input projections in one product, then one tensor per step.
    const projected = tf.add(tf.matMul(cellInput, this.v('inputKernel') as tf.Tensor2D), this.v('inputBias'));
    // One split, not unstack or 48 slices: on wasm, Unpack took ~200 ms and 48 Slices 5–15 ms against SplitV's ~1 ms.
    const perStep = tf.split(projected, T, 0) as tf.Tensor2D[];
    const decays = a.hiddenDecay
      ? (tf.split(tf.exp(tf.neg(tf.relu(tf.add(tf.matMul(d, this.v('hiddenDecayW') as tf.Tensor2D), this.v('hiddenDecayB'))))), T, 0) as tf.Tensor2D[])
      : [];
    const U = this.v('recurrentKernel') as tf.Tensor2D;
    let h: tf.Tensor2D = tf.zeros([n, H]);
    if (a.cell === 'gru') {
      const bn = this.v('candidateBias');
      for (let t = 0; t < T; t++) {
        if (a.hiddenDecay) h = tf.mul(decays[t], h);
        const [xzr, xn] = tf.split(perStep[t], [2 * H, H], 1);
        const [hzr, hn] = tf.split(tf.matMul(h, U), [2 * H, H], 1);
        const [z, r] = tf.split(tf.sigmoid(tf.add(xzr, hzr)), 2, 1);
        const candidate = tf.tanh(tf.add(xn, tf.mul(r, tf.add(hn, bn))));
        // (1 − z)·n + z·h = n + z·(h − n)
        h = tf.add(candidate, tf.mul(z, tf.sub(h, candidate)));
      }
    } else {
      let c: tf.Tensor2D = tf.zeros([n, H]);
      const cell = fusedCellsAvailable() ? lstmCellFused : lstmCellOps;
      for (let t = 0; t < T; t++) {
        if (a.hiddenDecay) h = tf.mul(decays[t], h);
        [h, c] = tf.split(cell(tf.add(perStep[t], tf.matMul(h, U)), c), 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      }
    }
    let joined: tf.Tensor2D = a.statics > 0 ? tf.concat([h, tf.tensor2d(b.statics, [n, a.statics])], 1) : h;
    if (dropoutSeed !== undefined && a.dropout > 0) joined = tf.dropout(joined, a.dropout, undefined, dropoutSeed) as tf.Tensor2D;
    return tf.add(tf.matMul(joined, this.v('outputKernel') as tf.Tensor2D), this.v('outputBias'));
  }

  /**
   * Runs `config.localSteps` mini-batch steps of sgd or adam (a fresh optimizer per call) on batches drawn from
   * seeded, reshuffled epochs. Objective per batch: mean BCE + l2·Σ‖kernel‖² + μ/2·‖w − w_start‖² (FedProx,
   * Li et al. 2020). With `options.gradientCorrection` (SCAFFOLD's c − c_i, Karimireddy et al. 2020) that constant
   * is added to every step's gradient. Yields to the event loop between steps.
   * @throws RangeError on an invalid config, missing or misshapen inputs, an empty set or a misshapen correction.
   */
  async train(set: ExampleSet, config: TrainingConfig, seed: number, options: TrainOptions = {}): Promise<TrainOutcome> {
    this.assertAlive();
    validateTrainingConfig(config);
    refuseGeneratorOnly('rnn', options);
    // The backend may have been chosen after this model was built.
    registerWasmSliceKernels();
    this.assertInputs(set, 'train');
    if (set.n < 1) throw new RangeError('train: the example set has no examples');
    if (options.gradientCorrection !== undefined) this.assertShapes(options.gradientCorrection, 'train: gradientCorrection');
    const vars = this.vars.map((v) => v.variable);
    const optimizer: tf.Optimizer = createOptimizer(config.optimizer, config.learningRate);
    const anchors = config.proximalMu > 0 ? vars.map((v) => tf.keep(v.clone())) : [];
    const corrections = (options.gradientCorrection ?? []).map((w, i) => tf.tensor(Float32Array.from(w.data), vars[i].shape));
    const sampler = new TimeMajorSampler(set, this.steps, this.features, this.architecture.statics, config.batchSize, createRng(deriveSeed(seed, 0xba7c)));
    let lossSum = 0;
    let seen = 0;
    try {
      for (let s = 0; s < config.localSteps; s++) {
        const batch = sampler.next();
        const loss = tf.tidy(() => this.step(batch, config, optimizer, anchors, corrections, deriveSeed(seed, s)));
        lossSum += (await loss.data())[0];
        loss.dispose();
        seen += batch.size;
      }
    } finally {
      optimizer.dispose();
      anchors.forEach((t) => t.dispose());
      corrections.forEach((t) => t.dispose());
    }
    return { numExamples: set.n, steps: config.localSteps, meanLoss: lossSum / seen };
  }

  /** One optimizer step; returns the batch's summed BCE. */
  private step(
    batch: TimeMajorBatch,
    config: TrainingConfig,
    optimizer: tf.Optimizer,
    anchors: tf.Tensor[],
    corrections: tf.Tensor[],
    dropoutSeed: number,
  ): tf.Scalar {
    const vars = this.vars.map((v) => v.variable);
    let bceSum: tf.Scalar | undefined;
    const { grads } = tf.variableGrads(() => {
      const z = this.logits(batch, dropoutSeed);
      const y = tf.tensor2d(batch.labels, [batch.size, 1]);
      // Kept past variableGrads' inner tidy so train() can read the data loss; train() disposes it.
      const kept: tf.Scalar = tf.keep(tf.sum(tf.sub(tf.softplus(z), tf.mul(y, z))));
      bceSum = kept;
      let objective: tf.Tensor = tf.div(kept, batch.size);
      if (config.l2 > 0) {
        for (const { variable, penalised } of this.vars) {
          if (penalised) objective = tf.add(objective, tf.mul(tf.sum(tf.square(variable)), config.l2));
        }
      }
      if (config.proximalMu > 0) {
        vars.forEach((v, i) => {
          objective = tf.add(objective, tf.mul(tf.sum(tf.square(tf.sub(v, anchors[i]))), config.proximalMu / 2));
        });
      }
      return objective as tf.Scalar;
    }, vars);
    if (corrections.length > 0) vars.forEach((v, i) => (grads[v.name] = tf.add(grads[v.name], corrections[i])));
    optimizer.applyGradients(grads);
    return bceSum as unknown as tf.Scalar;
  }

  /** Probabilities of death [n], in inference mode (no dropout). @throws RangeError on missing or misshapen inputs. */
  async predict(set: ExampleSet): Promise<Float32Array> {
    this.assertAlive();
    this.assertInputs(set, 'predict');
    const out = new Float32Array(set.n);
    for (let start = 0; start < set.n; start += PREDICT_BATCH) {
      const rows = Array.from({ length: Math.min(PREDICT_BATCH, set.n - start) }, (_, i) => start + i);
      const batch = timeMajorBatch(set, rows, this.steps, this.features, this.architecture.statics);
      const p = tf.tidy(() => tf.sigmoid(this.logits(batch)));
      out.set(await p.data(), start);
      p.dispose();
    }
    return out;
  }

  /** Frees the model's tensors. Idempotent; the model is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.vars.forEach((v) => v.variable.dispose());
    this.disposed = true;
  }
}

/**
 * Copies the rows `rows` of `set` into time-major arrays ([step, row, feature]) and carries the last observed value
 * forward (GRU-D's x_last; 0 before a variable's first observation).
 */
function timeMajorBatch(set: ExampleSet, rows: readonly number[], T: number, F: number, S: number): TimeMajorBatch {
  const n = rows.length;
  const b: TimeMajorBatch = {
    size: n,
    values: new Float32Array(T * n * F),
    mask: new Float32Array(T * n * F),
    delta: new Float32Array(T * n * F),
    last: new Float32Array(T * n * F),
    statics: new Float32Array(n * S),
    labels: new Float32Array(n),
  };
  const { values, mask, delta } = set.inputs;
  const carried = new Float32Array(F);
  rows.forEach((row, r) => {
    carried.fill(0);
    for (let t = 0; t < T; t++) {
      const src = (row * T + t) * F;
      const dst = (t * n + r) * F;
      for (let f = 0; f < F; f++) {
        const observed = mask.data[src + f];
        b.values[dst + f] = values.data[src + f];
        b.mask[dst + f] = observed;
        b.delta[dst + f] = delta.data[src + f];
        if (observed === 1) carried[f] = values.data[src + f];
        b.last[dst + f] = carried[f];
      }
    }
    if (S > 0) b.statics.set(set.inputs.statics.data.subarray(row * S, (row + 1) * S), r * S);
    b.labels[r] = set.labels.data[row];
  });
  return b;
}

/** Mini-batches by reshuffled epochs (torch DataLoader(shuffle=True, drop_last=False) semantics), time-major. */
class TimeMajorSampler {
  private readonly order: number[];
  private cursor: number;

  constructor(
    private readonly set: ExampleSet,
    private readonly T: number,
    private readonly F: number,
    private readonly S: number,
    private readonly batchSize: number,
    private readonly rng: Rng,
  ) {
    this.order = Array.from({ length: set.n }, (_, i) => i);
    this.cursor = set.n;
  }

  next(): TimeMajorBatch {
    if (this.cursor >= this.set.n) {
      shuffleInPlace(this.order, this.rng);
      this.cursor = 0;
    }
    const rows = this.order.slice(this.cursor, this.cursor + this.batchSize);
    this.cursor += rows.length;
    return timeMajorBatch(this.set, rows, this.T, this.F, this.S);
  }
}

/**
 * The `rnn` model family: GRU-D-style GRU/LSTM classifiers over [steps, features] time series with masks and time
 * gaps ({@link RnnClassifier}); settings in `ModelSpec.architecture` (see {@link RnnArchitecture}).
 */
export const rnnFamily: ModelFamilyDefinition = {
  family: 'rnn',
  validate(spec: ModelSpec): void {
    rnnArchitecture(spec);
  },
  create(spec: ModelSpec, seed: number): FederatedModel {
    return RnnClassifier.create(spec, seed);
  },
};
