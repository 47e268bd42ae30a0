import * as tf from '@tensorflow/tfjs';

/** Raised when a training kernel registered here is asked for a configuration it does not implement. */
export class UnsupportedWasmKernelError extends Error {
  override readonly name = 'UnsupportedWasmKernelError';
}

const WASM = 'wasm';
const BACKPROP_FILTER = 'Conv2DBackpropFilter';
const BACKPROP_INPUT = 'Conv2DBackpropInput';
const BATCH_MAT_MUL = 'BatchMatMul';

type Padding = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

/** Attributes the engine passes to Conv2DBackpropFilter (tfjs-core's Conv2DBackpropFilterAttrs). */
interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: Padding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: Shape4;
}

/** Attributes the engine passes to Conv2DBackpropInput (tfjs-core's Conv2DBackpropInputAttrs). */
interface BackpropInputAttrs {
  strides: [number, number] | number;
  pad: Padding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: Shape4;
}

/**
 * Runs existing wasm kernels directly on TensorInfos (no engine tensors, no tape) and frees every intermediate
 * it made, so the composite kernel leaves exactly one new data id behind, as the engine's leak check expects.
 */
class WasmKernelChain {
  private readonly made: tf.TensorInfo[] = [];
  private readonly backend: tf.KernelBackend;

  /** @param backend the `backend` a kernel function receives (typed `{}` by tfjs-core). */
  constructor(backend: object) {
    if (!(backend instanceof tf.KernelBackend)) {
      throw new UnsupportedWasmKernelError(`expected a KernelBackend, got ${backend.constructor.name}`);
    }
    this.backend = backend;
  }

  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, WASM);
    if (kernel === undefined) {
      throw new UnsupportedWasmKernelError(`wasm kernel '${kernelName}' is not registered`);
    }
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) {
      throw new UnsupportedWasmKernelError(`wasm kernel '${kernelName}' returned ${out.length} outputs, expected 1`);
    }
    this.made.push(out);
    return out;
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** Frees every intermediate except `result` (reshapes share data ids, which the backend reference-counts). */
  finish(result: tf.TensorInfo): tf.TensorInfo {
    for (const info of this.made) {
      if (info !== result) this.backend.disposeData(info.dataId);
    }
    this.made.length = 0;
    return result;
  }

  /** Frees everything made so far: used when a step throws halfway. */
  abandon(): void {
    for (const info of this.made) this.backend.disposeData(info.dataId);
    this.made.length = 0;
  }
}

function nhwcConvInfo(
  xShape: Shape4,
  filterShape: Shape4,
  strides: [number, number] | number,
  pad: Padding,
  dataFormat: 'NHWC' | 'NCHW',
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): tf.backend_util.Conv2DInfo {
  if (dataFormat !== 'NHWC') {
    throw new UnsupportedWasmKernelError(`dataFormat '${dataFormat}' is not supported; the wasm backend is NHWC only`);
  }
  return tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
}

/**
 * The filter gradient of a 2-D convolution, dW[kh,kw,ci,co] = Σ_{b,oh,ow} x_pad[b, oh·s+kh, ow·s+kw, ci] · dy[b,oh,ow,co],
 * computed as one forward wasm (XNNPACK) convolution in which the roles are swapped: the input's channels become the
 * batch and its batch the channels (xᵀ: [Ci, H, W, B]), and dy becomes the filter ([OH, OW, B, Co]) with dilation = the
 * forward stride. The output [Ci, KH, KW, Co] is transposed (filter-sized, cheap) into [KH, KW, Ci, Co].
 * This is the im2col × dy product of the brief in disguise: XNNPACK builds the windows itself. Measured against the
 * explicit im2col (Slice + Concat + one matrix product) on the 28×28 CNN's second layer: about 10× faster, because wasm's
 * JS-side slicing and its broadcast/transposed matrix products are slow (STACK.md).
 */
function conv2dBackpropFilterWasm(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as BackpropFilterAttrs;
  const info = nhwcConvInfo(x.shape as Shape4, attrs.filterShape, attrs.strides, attrs.pad, attrs.dataFormat, attrs.dimRoundingMode);
  const { inChannels, inHeight, inWidth, filterHeight, filterWidth, outHeight, outWidth, strideHeight, strideWidth, padInfo } = info;
  // Rows/columns of the padded input the forward pass actually read: window starts 0, s, …, s·(OH−1) plus KH−1.
  const usedHeight = strideHeight * (outHeight - 1) + filterHeight;
  const usedWidth = strideWidth * (outWidth - 1) + filterWidth;
  const chain = new WasmKernelChain(args.backend);
  try {
    let xc = x;
    // Valid padding with a stride can leave trailing rows/columns unread: crop them so the swapped convolution
    // yields exactly KH × KW outputs.
    const cropHeight = Math.min(inHeight, usedHeight - padInfo.top);
    const cropWidth = Math.min(inWidth, usedWidth - padInfo.left);
    if (cropHeight < inHeight || cropWidth < inWidth) {
      xc = chain.run('Slice', { x }, { begin: [0, 0, 0, 0], size: [x.shape[0], cropHeight, cropWidth, inChannels] });
    }
    const xT = chain.run('Transpose', { x: xc }, { perm: [3, 1, 2, 0] });
    const dyAsFilter = chain.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    const swapped = chain.run(
      'Conv2D',
      { x: xT, filter: dyAsFilter },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [padInfo.top, usedHeight - padInfo.top - cropHeight],
          [padInfo.left, usedWidth - padInfo.left - cropWidth],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [strideHeight, strideWidth],
      },
    );
    if (swapped.shape[1] !== filterHeight || swapped.shape[2] !== filterWidth) {
      throw new UnsupportedWasmKernelError(`filter gradient came out ${swapped.shape} for filter ${attrs.filterShape}`);
    }
    return chain.finish(chain.run('Transpose', { x: swapped }, { perm: [1, 2, 0, 3] }));
  } catch (e) {
    chain.abandon();
    throw e;
  }
}

/**
 * The input gradient of a stride-1 convolution as a plain wasm (XNNPACK) convolution of dy, padded by
 * KH−1−padTop / KW−1−padLeft (and the bottom/right analogues), with the filter rotated 180° and its channel axes
 * swapped (the "full convolution" identity, Dumoulin & Visin 2016, §4). Other strides go to `fallback`, the stock kernel.
 */
function makeConv2dBackpropInputWasm(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as BackpropInputAttrs;
    const info = nhwcConvInfo(attrs.inputShape, filter.shape as Shape4, attrs.strides, attrs.pad, attrs.dataFormat, attrs.dimRoundingMode);
    const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
    const top = filterHeight - 1 - padInfo.top;
    const bottom = filterHeight - 1 - padInfo.bottom;
    const left = filterWidth - 1 - padInfo.left;
    const right = filterWidth - 1 - padInfo.right;
    const outHeight = dy.shape[1] + top + bottom - filterHeight + 1;
    const outWidth = dy.shape[2] + left + right - filterWidth + 1;
    const fits =
      strideHeight === 1 &&
      strideWidth === 1 &&
      Math.min(top, bottom, left, right) >= 0 &&
      outHeight === attrs.inputShape[1] &&
      outWidth === attrs.inputShape[2];
    if (!fits) {
      return fallback(args);
    }
    const chain = new WasmKernelChain(args.backend);
    try {
      const flipped = chain.run('Reverse', { x: filter }, { dims: [0, 1] });
      const swapped = chain.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
      const dx = chain.run(
        'Conv2D',
        { x: dy, filter: swapped },
        {
          strides: [1, 1],
          pad: [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ],
          dataFormat: 'NHWC',
          dilations: [1, 1],
        },
      );
      return chain.finish(dx);
    } catch (e) {
      chain.abandon();
      throw e;
    }
  };
}

/**
 * Matrix products with a transposed operand: transposes that operand explicitly (a cheap wasm copy) and runs the
 * plain product, which the wasm backend computes about 10× faster than its transposed variants (STACK.md; measured
 * here 4 ms against 50 ms for [3872, 288]ᵀ × [3872, 64]). Dense layers' backward passes use exactly these products.
 * Products without a transposed operand go to `stock` unchanged.
 */
function makeBatchMatMulWasm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    if (!transposeA && !transposeB) {
      return stock(args);
    }
    const chain = new WasmKernelChain(args.backend);
    try {
      const lastTwoSwapped = (t: tf.TensorInfo): tf.TensorInfo => {
        const perm = t.shape.map((_, i) => i);
        const r = perm.length;
        [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
        return chain.run('Transpose', { x: t }, { perm });
      };
      const $a = transposeA ? lastTwoSwapped(a) : a;
      const $b = transposeB ? lastTwoSwapped(b) : b;
      const product = stock({ inputs: { a: $a, b: $b }, backend: args.backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
      if (Array.isArray(product)) {
        throw new UnsupportedWasmKernelError(`BatchMatMul returned ${product.length} outputs, expected 1`);
      }
      return chain.finish(product);
    } catch (e) {
      chain.abandon();
      throw e;
    }
  };
}

/** Replaces a stock wasm kernel by a wrapper around it, keeping its setup and dispose functions. */
function wrapStockKernel(kernelName: string, wrap: (stock: tf.KernelFunc) => tf.KernelFunc): boolean {
  const stock = tf.getKernel(kernelName, WASM);
  if (stock === undefined) return false;
  tf.unregisterKernel(kernelName, WASM);
  tf.registerKernel({
    kernelName,
    backendName: WASM,
    setupFunc: stock.setupFunc,
    disposeFunc: stock.disposeFunc,
    kernelFunc: wrap(stock.kernelFunc),
  });
  return true;
}

let stockReplaced = false;

/**
 * Registers the training kernels the TensorFlow.js 4.22 wasm backend lacks or runs slowly:
 * `Conv2DBackpropFilter` (missing: CNN training otherwise fails with "Kernel 'Conv2DBackpropFilter' not registered
 * for backend 'wasm'"), NHWC, dilation 1, any stride and padding; and a stride-1 `Conv2DBackpropInput` built on the wasm
 * forward convolution (the stock kernel runs at about 1 GFLOP/s, STACK.md), falling back to the stock kernel otherwise;
 * and `BatchMatMul` with a transposed operand as an explicit transpose plus the plain product (about 10× faster).
 * All are composed from existing wasm kernels. Idempotent. Call it after `@tensorflow/tfjs-backend-wasm` has been loaded
 * (`initBackend('wasm')` loads it); before that only the filter gradient is registered, and a later call adds the rest.
 * The replaced kernels keep the stock kernels' setup functions, so the wasm backend may be initialised before or after.
 */
export function registerWasmTrainingKernels(): void {
  if (tf.getKernel(BACKPROP_FILTER, WASM) === undefined) {
    tf.registerKernel({ kernelName: BACKPROP_FILTER, backendName: WASM, kernelFunc: conv2dBackpropFilterWasm });
  }
  if (!stockReplaced) {
    // Both stock kernels arrive together with the wasm backend package; until it is loaded, neither is there.
    stockReplaced = wrapStockKernel(BACKPROP_INPUT, makeConv2dBackpropInputWasm) && wrapStockKernel(BATCH_MAT_MUL, makeBatchMatMulWasm);
  }
}
