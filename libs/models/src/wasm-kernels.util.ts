import * as tf from '@tensorflow/tfjs';

/** Raised when a training kernel registered here is asked for a configuration it does not implement. */
export class UnsupportedWasmKernelError extends Error {
  override readonly name = 'UnsupportedWasmKernelError';
}

const WASM = 'wasm';
const BACKPROP_FILTER = 'Conv2DBackpropFilter';
const BACKPROP_INPUT = 'Conv2DBackpropInput';
const BATCH_MAT_MUL = 'BatchMatMul';
const MAX_POOL_GRAD = 'MaxPoolGrad';
const SUM = 'Sum';
/** Filter gradients whose patch (KH·KW·Ci) is at most this long go through an explicit im2col and one matrix product. */
const IM2COL_MAX_PATCH = 64;

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

  /** Takes ownership of a tensor made outside `run` (e.g. by `makeOutput`), so `finish`/`abandon` free it too. */
  adopt(info: tf.TensorInfo): tf.TensorInfo {
    this.made.push(info);
    return info;
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
 * The filter gradient for convolutions with few input channels (the first layer of an image CNN: Ci = 1), as
 * dW = im2col(x) · dy: the patches are written by a JavaScript loop straight into wasm memory as a [KH·KW·Ci, B·OH·OW]
 * matrix (zeros where the window overhangs the padding), multiplied by dy viewed as [B·OH·OW, Co] in one plain wasm
 * (XNNPACK) matrix product, and viewed as [KH, KW, Ci, Co]. The swapped convolution below is slow here: with Ci = 1 its
 * "batch" is one image and its filter the whole 26×26 output, a shape XNNPACK handles poorly (3.7 ms against about
 * 1 ms this way for the 28×28 CNN's first layer).
 */
function conv2dBackpropFilterIm2col(args: Parameters<tf.KernelFunc>[0], info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const backend = asHeapBackend(args.backend);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const patch = filterHeight * filterWidth * inChannels;
  const positions = batchSize * outHeight * outWidth;
  const chain = new WasmKernelChain(args.backend);
  try {
    const cols = chain.adopt(backend.makeOutput([1, patch, positions], 'float32'));
    const xs = heapFloats(backend, x, 'Conv2DBackpropFilter x');
    const out = heapFloats(backend, cols, 'im2col');
    for (let kh = 0; kh < filterHeight; kh++) {
      for (let kw = 0; kw < filterWidth; kw++) {
        for (let ci = 0; ci < inChannels; ci++) {
          let at = ((kh * filterWidth + kw) * inChannels + ci) * positions;
          for (let b = 0; b < batchSize; b++) {
            for (let oh = 0; oh < outHeight; oh++) {
              const r = oh * strideHeight + kh - padInfo.top;
              const rowInside = r >= 0 && r < inHeight;
              const rowBase = ((b * inHeight + r) * inWidth) * inChannels + ci;
              for (let ow = 0; ow < outWidth; ow++, at++) {
                const c = ow * strideWidth + kw - padInfo.left;
                out[at] = rowInside && c >= 0 && c < inWidth ? xs[rowBase + c * inChannels] : 0;
              }
            }
          }
        }
      }
    }
    const dy3 = chain.reshape(dy, [1, positions, outChannels]);
    const product = chain.run(BATCH_MAT_MUL, { a: cols, b: dy3 }, { transposeA: false, transposeB: false });
    return chain.finish(chain.reshape(product, [filterHeight, filterWidth, inChannels, outChannels]));
  } catch (e) {
    chain.abandon();
    throw e;
  }
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
  if (filterHeight * filterWidth * inChannels <= IM2COL_MAX_PATCH && x.dtype === 'float32' && dy.dtype === 'float32') {
    return conv2dBackpropFilterIm2col(args, info);
  }
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
 * The input gradient of a strided convolution by col2im: one wasm matrix product cols = dy[B·OH·OW, Co] · Wᵀ[Co, KH·KW·Ci]
 * (each output position's contribution to every pixel of its window), then a JavaScript loop that adds each window back
 * into dx in wasm memory (skipping the padding). Replaces the stock kernel (about 1 GFLOP/s, STACK.md) for strides > 1.
 */
function conv2dBackpropInputCol2im(args: Parameters<tf.KernelFunc>[0], info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const backend = asHeapBackend(args.backend);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const patch = filterHeight * filterWidth * inChannels;
  const positions = batchSize * outHeight * outWidth;
  const chain = new WasmKernelChain(args.backend);
  try {
    const dy3 = chain.reshape(dy, [1, positions, outChannels]);
    const w3 = chain.reshape(filter, [1, patch, outChannels]);
    const cols = chain.run(BATCH_MAT_MUL, { a: dy3, b: w3 }, { transposeA: false, transposeB: true });
    const dxInfo = backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
    chain.adopt(dxInfo);
    const c = heapFloats(backend, cols, 'col2im');
    const dx = heapFloats(backend, dxInfo, 'Conv2DBackpropInput dx');
    dx.fill(0);
    let at = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let oh = 0; oh < outHeight; oh++) {
        for (let ow = 0; ow < outWidth; ow++) {
          for (let kh = 0; kh < filterHeight; kh++) {
            const r = oh * strideHeight + kh - padInfo.top;
            for (let kw = 0; kw < filterWidth; kw++, at += inChannels) {
              const col = ow * strideWidth + kw - padInfo.left;
              if (r < 0 || r >= inHeight || col < 0 || col >= inWidth) continue;
              const base = ((b * inHeight + r) * inWidth + col) * inChannels;
              for (let ci = 0; ci < inChannels; ci++) dx[base + ci] += c[at + ci];
            }
          }
        }
      }
    }
    return chain.finish(dxInfo);
  } catch (e) {
    chain.abandon();
    throw e;
  }
}

/**
 * The input gradient of a stride-1 convolution as a plain wasm (XNNPACK) convolution of dy, padded by
 * KH−1−padTop / KW−1−padLeft (and the bottom/right analogues), with the filter rotated 180° and its channel axes
 * swapped (the "full convolution" identity, Dumoulin & Visin 2016, §4). Other strides (and stride-1 cases the identity
 * does not fit) go to col2im; non-float32 tensors to `fallback`, the stock kernel.
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
      return dy.dtype === 'float32' && filter.dtype === 'float32' ? conv2dBackpropInputCol2im(args, info) : fallback(args);
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

/** The two public BackendWasm methods the heap kernels use (tfjs-backend-wasm 4.22, backend_wasm.d.ts). */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function asHeapBackend(backend: object): WasmHeapBackend {
  const b = backend as Partial<WasmHeapBackend>;
  if (typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function') {
    throw new UnsupportedWasmKernelError(`expected the wasm backend, got ${backend.constructor.name}`);
  }
  return b as WasmHeapBackend;
}

/** A float32 view of a tensor's bytes in wasm memory. Take views only after the last allocation: growth detaches them. */
function heapFloats(backend: WasmHeapBackend, info: tf.TensorInfo, what: string): Float32Array {
  const view = backend.typedArrayFromHeap(info);
  if (!(view instanceof Float32Array)) throw new UnsupportedWasmKernelError(`${what} must be float32, got ${info.dtype}`);
  return view;
}

/** Attributes the engine passes to MaxPoolGrad (tfjs-core's MaxPoolGradAttrs). */
interface MaxPoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: Padding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * The gradient of a 2-D max pooling, written straight into wasm memory by a JavaScript loop: each output cell's
 * gradient goes to the first maximum of its window in row-major order (strict >, NaN never a maximum), exactly the
 * `cpu` backend's rule (maxPoolPositions), so ties between ReLU zeros route identically. One pass over the input,
 * channels innermost (contiguous in NHWC). The stock wasm kernel took 11.7 ms for the 28×28 CNN's first pooling
 * gradient ([32, 26, 26, 32]); this one about 1 ms.
 */
function maxPoolGradWasm(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const attrs = args.attrs as unknown as MaxPoolGradAttrs;
  const backend = asHeapBackend(args.backend);
  const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight: windowHeight, effectiveFilterWidth: windowWidth, dilationHeight, dilationWidth, padInfo } = info;
  const dxInfo = backend.makeOutput([...input.shape], 'float32');
  const x = heapFloats(backend, input, 'MaxPoolGrad input');
  const g = heapFloats(backend, dy, 'MaxPoolGrad dy');
  const dx = heapFloats(backend, dxInfo, 'MaxPoolGrad dx');
  dx.fill(0);
  const tiles = dilationHeight === 1 && dilationWidth === 1 && strideHeight === windowHeight && strideWidth === windowWidth;
  for (let b = 0; b < batchSize; b++) {
    const xBatch = b * inHeight * inWidth * channels;
    for (let oh = 0; oh < outHeight; oh++) {
      const rowCorner = oh * strideHeight - padInfo.top;
      let rowStart = rowCorner;
      while (rowStart < 0) rowStart += dilationHeight;
      const rowEnd = Math.min(inHeight, rowCorner + windowHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const colCorner = ow * strideWidth - padInfo.left;
        let colStart = colCorner;
        while (colStart < 0) colStart += dilationWidth;
        const colEnd = Math.min(inWidth, colCorner + windowWidth);
        const gBase = ((b * outHeight + oh) * outWidth + ow) * channels;
        for (let ch = 0; ch < channels; ch++) {
          let best = Number.NEGATIVE_INFINITY;
          let where = -1;
          for (let r = rowStart; r < rowEnd; r += dilationHeight) {
            let at = xBatch + (r * inWidth + colStart) * channels + ch;
            const step = dilationWidth * channels;
            for (let c = colStart; c < colEnd; c += dilationWidth, at += step) {
              const v = x[at];
              if (v > best) {
                best = v;
                where = at;
              }
            }
          }
          if (where < 0) continue;
          // Non-overlapping windows (the usual 2×2 stride 2) each own their cells: store instead of accumulate.
          if (tiles) dx[where] = g[gBase + ch];
          else dx[where] += g[gBase + ch];
        }
      }
    }
  }
  return dxInfo;
}

/**
 * Sums over all axes but the last (bias gradients: dy [B, H, W, C] → [C]) by one JavaScript pass over wasm memory with
 * float64 accumulators. The stock kernel first transposes the reduced axes innermost, a full copy of x (1.6–1.9 ms for the
 * 28×28 CNN's [32, 26, 26, 32] bias gradient); a product with a ones vector was slower still on fresh data (3 ms: XNNPACK
 * packs its right operand on every call). Every other reduction goes to `stock` unchanged.
 */
function makeSumWasm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
    const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32' || keepDims) {
      return stock(args);
    }
    const backend = asHeapBackend(args.backend);
    const channels = x.shape[rank - 1];
    const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const outInfo = backend.makeOutput([channels], 'float32');
    const values = heapFloats(backend, x, 'Sum x');
    const out = heapFloats(backend, outInfo, 'Sum output');
    const acc = new Float64Array(channels);
    for (let r = 0, at = 0; r < rows; r++) {
      for (let c = 0; c < channels; c++, at++) acc[c] += values[at];
    }
    out.set(acc);
    return outInfo;
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
 * for backend 'wasm'"), NHWC, dilation 1, any stride and padding, by im2col for short patches (first layers) and a
 * swapped convolution otherwise; `Conv2DBackpropInput` built on the wasm forward convolution for stride 1 (the stock
 * kernel runs at about 1 GFLOP/s, STACK.md) and by col2im for other strides; `BatchMatMul` with a transposed operand as
 * an explicit transpose plus the plain product (about 10× faster); `MaxPoolGrad` as one JavaScript pass over wasm
 * memory (the stock kernel took 11.7 ms on the CNN's first pooling); and `Sum` over all leading axes (bias gradients)
 * as one JavaScript pass over wasm memory. Every replacement is checked against the `cpu` backend in the spec.
 * They are composed from existing wasm kernels or write wasm memory directly. Idempotent. Call it after `@tensorflow/tfjs-backend-wasm` has been loaded
 * (`initBackend('wasm')` loads it); before that only the filter gradient is registered, and a later call adds the rest.
 * The replaced kernels keep the stock kernels' setup functions, so the wasm backend may be initialised before or after.
 */
export function registerWasmTrainingKernels(): void {
  if (tf.getKernel(BACKPROP_FILTER, WASM) === undefined) {
    tf.registerKernel({ kernelName: BACKPROP_FILTER, backendName: WASM, kernelFunc: conv2dBackpropFilterWasm });
  }
  if (tf.getKernel(MAX_POOL_GRAD, WASM)?.kernelFunc !== maxPoolGradWasm) {
    const stock = tf.getKernel(MAX_POOL_GRAD, WASM);
    if (stock !== undefined) tf.unregisterKernel(MAX_POOL_GRAD, WASM);
    tf.registerKernel({ kernelName: MAX_POOL_GRAD, backendName: WASM, kernelFunc: maxPoolGradWasm });
  }
  if (!stockReplaced) {
    // Both stock kernels arrive together with the wasm backend package; until it is loaded, neither is there.
    stockReplaced =
      wrapStockKernel(BACKPROP_INPUT, makeConv2dBackpropInputWasm) && wrapStockKernel(BATCH_MAT_MUL, makeBatchMatMulWasm) && wrapStockKernel(SUM, makeSumWasm);
  }
}
