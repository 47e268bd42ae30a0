import * as tf from '@tensorflow/tfjs';

/** tfjs-core's NamedTensor (not re-exported by @tensorflow/tfjs). */
interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** The public BackendWasm method this optimizer uses (tfjs-backend-wasm 4.22, backend_wasm.d.ts). */
interface WasmHeap {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function wasmHeapOf(backend: tf.KernelBackend): WasmHeap | null {
  const b = backend as unknown as Partial<WasmHeap>;
  return tf.getBackend() === 'wasm' && typeof b.typedArrayFromHeap === 'function' ? (b as WasmHeap) : null;
}

/**
 * Variables from this size on are updated by tfjs's own Adam: its ops run 4-wide SIMD over the array, while
 * the per-op overhead they cost is paid once per variable. Below it, one scalar JavaScript pass is cheaper
 * (`bench/adam.ts` measures both on every study's model).
 */
export const LARGE_VARIABLE = 1 << 16;

/**
 * Adam (Kingma & Ba 2015) whose update of a variable smaller than {@link LARGE_VARIABLE} is one JavaScript
 * pass, reading the weights and the gradient where they lie (a view of wasm memory) and handing the variable
 * one new tensor. tfjs-core's AdamOptimizer spends about twelve tensor ops per
 * variable per step (each an allocation and a kernel call); on WebAssembly that overhead, not arithmetic,
 * was a fifth of the autoencoder's step. Only for backends whose tensors live in this process's memory
 * (`wasm`, `cpu`): on `native` and `gpu` the stock optimizer's fused kernels are the fast path
 * ({@link createOptimizer} picks).
 *
 * Arithmetic is tfjs-core's: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w ← w − η·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
 * with ε the backend's epsilon; the moments are float32 arrays held here, the bias corrections are computed
 * in double precision. It matches tf.train.adam to float32 rounding (checked in the spec).
 */
export class HeapAdamOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'HeapAdam';
  }

  private readonly moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  /** Variables of at least {@link LARGE_VARIABLE} elements go to tfjs's Adam (see there). */
  private readonly large: tf.Optimizer;
  private step = 0;
  private readonly epsilon: number;

  constructor(
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    epsilon?: number,
  ) {
    super();
    if (!(learningRate > 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
      throw new RangeError(`adam: learning rate must be > 0 and betas in [0, 1), got η=${learningRate}, β1=${beta1}, β2=${beta2}`);
    }
    this.epsilon = epsilon ?? tf.backend().epsilon();
    this.large = tf.train.adam(learningRate, beta1, beta2, this.epsilon);
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const named = Array.isArray(variableGradients) ? variableGradients : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    // Every gradient is checked before any is applied: a refused call changes nothing.
    const registered = tf.engine().registeredVariables;
    const updates: { name: string; grad: tf.Tensor; variable: tf.Variable }[] = [];
    const large: tf.NamedTensorMap = {};
    for (const { name, tensor: grad } of named) {
      if (grad == null) continue;
      const variable = registered[name];
      if (variable === undefined) throw new Error(`adam: no variable named '${name}' is registered`);
      if (!variable.trainable) continue;
      if (grad.size !== variable.size || grad.dtype !== 'float32') {
        throw new RangeError(`adam: gradient of '${name}' is ${grad.dtype} [${grad.shape}], variable is [${variable.shape}]`);
      }
      if (variable.size >= LARGE_VARIABLE) large[name] = grad;
      else updates.push({ name, grad, variable });
    }
    // The split is by size, so the same variables reach tfjs's Adam every step and its β powers stay in step.
    if (Object.keys(large).length > 0) this.large.applyGradients(large);
    this.step += 1;
    const lrT = this.learningRate;
    const c1 = 1 / (1 - this.beta1 ** this.step);
    const c2 = 1 / (1 - this.beta2 ** this.step);
    const { beta1, beta2, epsilon } = this;
    const heap = wasmHeapOf(tf.backend());
    for (const { name, grad, variable } of updates) {
      let state = this.moments.get(name);
      if (state === undefined) {
        state = { m: new Float32Array(variable.size), v: new Float32Array(variable.size) };
        this.moments.set(name, state);
      }
      const { m, v } = state;
      // Never in place, though it would save a copy: the wasm backend caches XNNPACK operators with the
      // weights packed inside, keyed by the tensor's id, so a matrix changed under the same id is read stale.
      const g = heap !== null ? (heap.typedArrayFromHeap(grad) as Float32Array) : (grad.dataSync() as Float32Array);
      const w = heap !== null ? (heap.typedArrayFromHeap(variable) as Float32Array) : (variable.dataSync() as Float32Array);
      const next = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) {
        const gi = g[i];
        const mi = (m[i] = beta1 * m[i] + (1 - beta1) * gi);
        const vi = (v[i] = beta2 * v[i] + (1 - beta2) * gi * gi);
        next[i] = w[i] - (lrT * (mi * c1)) / (Math.sqrt(vi * c2) + epsilon);
      }
      const value = tf.tensor(next, variable.shape, 'float32');
      variable.assign(value);
      value.dispose();
    }
    this.incrementIterations();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    throw new Error('adam: the heap optimizer keeps no serialisable state; a site starts every round with a fresh optimizer');
  }

  override async setWeights(): Promise<void> {
    throw new Error('adam: the heap optimizer keeps no serialisable state; a site starts every round with a fresh optimizer');
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  override dispose(): void {
    this.moments.clear();
    this.large.dispose();
    super.dispose();
  }
}

/**
 * The optimizer for a training call: SGD is tfjs's; Adam is {@link HeapAdamOptimizer} on backends that keep
 * tensors in this process (`wasm`, `cpu`) and tfjs's own elsewhere (`native`, `gpu`), where reading tensors
 * back every step would cost more than the ops it saves.
 */
export function createOptimizer(kind: 'sgd' | 'adam', learningRate: number, beta1 = 0.9, beta2 = 0.999): tf.Optimizer {
  if (kind === 'sgd') return tf.train.sgd(learningRate);
  return ['wasm', 'cpu'].includes(tf.getBackend()) ? new HeapAdamOptimizer(learningRate, beta1, beta2) : tf.train.adam(learningRate, beta1, beta2);
}
