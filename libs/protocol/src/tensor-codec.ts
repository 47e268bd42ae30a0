import { types } from 'node:util';
import { ProtocolError } from './protocol-error';

/** One named-by-position weight tensor as it crosses the wire: a row-major float32 array and its shape. */
export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

/** Options for {@link decodeTensors}. */
export interface DecodeTensorsOptions {
  /** Refuse blobs declaring more tensors than this. Default {@link DEFAULT_MAX_TENSORS}. */
  maxTensors?: number;
  /** Refuse blobs whose tensors hold more float32 elements in total than this. Default: unlimited (the blob size bounds it). */
  maxElements?: number;
  /** Refuse NaN and ±Infinity values (NON_FINITE). Default true. */
  requireFinite?: boolean;
}

/** Highest tensor rank accepted (convolution kernels are rank 4; 8 leaves room). */
export const MAX_TENSOR_RANK = 8;
/** Default cap on the number of tensors in one blob. */
export const DEFAULT_MAX_TENSORS = 4096;

const U32_MAX = 0xffff_ffff;
// The data is copied byte-for-byte into a fresh Float32Array on little-endian hosts (every
// platform Node ships on today); a big-endian host takes the slower DataView path.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function align4(offset: number): number {
  return (offset + 3) & ~3;
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkTensorForEncoding(tensor: WeightTensor, index: number): void {
  if (tensor === null || typeof tensor !== 'object') {
    throw new ProtocolError('MALFORMED_TENSORS', `tensor ${index} is not an object`);
  }
  // util.types works across realms (jest runs specs in a separate VM context).
  if (!types.isFloat32Array(tensor.data)) {
    throw new ProtocolError('MALFORMED_TENSORS', `tensor ${index}: data must be a Float32Array`);
  }
  if (!Array.isArray(tensor.shape) || tensor.shape.length > MAX_TENSOR_RANK) {
    throw new ProtocolError('MALFORMED_TENSORS', `tensor ${index}: shape must be an array of at most ${MAX_TENSOR_RANK} dims`);
  }
  for (const d of tensor.shape) {
    if (!Number.isInteger(d) || d < 0 || d > U32_MAX) {
      throw new ProtocolError('MALFORMED_TENSORS', `tensor ${index}: shape dims must be integers in [0, 2^32-1], got ${String(d)}`);
    }
  }
  const expected = elementCount(tensor.shape);
  if (expected !== tensor.data.length) {
    throw new ProtocolError(
      'MALFORMED_TENSORS',
      `tensor ${index}: shape [${tensor.shape.join(', ')}] holds ${expected} elements but data has ${tensor.data.length}`,
    );
  }
}

function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    // x - x is 0 for every finite x and NaN for NaN and ±Infinity; one comparison per element.
    if (data[i] - data[i] !== 0) return i;
  }
  return -1;
}

/**
 * Checks tensors for encoding and returns the size of their blob in bytes.
 * @param tensors the tensors to encode.
 * @throws ProtocolError MALFORMED_TENSORS for a shape/data mismatch, NON_FINITE for NaN/Infinity.
 */
export function tensorsByteLength(tensors: readonly WeightTensor[]): number {
  if (!Array.isArray(tensors)) {
    throw new ProtocolError('MALFORMED_TENSORS', 'tensors must be an array');
  }
  let size = 4;
  tensors.forEach((tensor, index) => {
    checkTensorForEncoding(tensor, index);
    const bad = firstNonFinite(tensor.data);
    if (bad >= 0) {
      throw new ProtocolError('NON_FINITE', `tensor ${index} has a non-finite value at element ${bad}`);
    }
    size = align4(size + 1 + 4 * tensor.shape.length) + 4 * tensor.data.length;
  });
  return size;
}

/**
 * Writes the blob of tensors already checked by {@link tensorsByteLength} into `target` at `offset`
 * (padding is relative to `offset`, so any offset works). Lets the envelope build its payload
 * without an intermediate copy of the weights.
 * @returns the offset just past the blob.
 */
export function writeTensors(tensors: readonly WeightTensor[], target: Uint8Array, offset: number): number {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  view.setUint32(offset, tensors.length, true);
  let at = 4;
  for (const tensor of tensors) {
    view.setUint8(offset + at, tensor.shape.length);
    at += 1;
    for (const d of tensor.shape) {
      view.setUint32(offset + at, d, true);
      at += 4;
    }
    const padded = align4(at);
    target.fill(0, offset + at, offset + padded);
    at = padded;
    if (HOST_IS_LITTLE_ENDIAN) {
      target.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), offset + at);
    } else {
      for (let i = 0; i < tensor.data.length; i++) view.setFloat32(offset + at + 4 * i, tensor.data[i], true);
    }
    at += tensor.data.byteLength;
  }
  return offset + at;
}

/**
 * Serialises weight tensors into one binary blob.
 *
 * Layout (all integers little-endian, offsets relative to the start of the blob):
 * `u32 count`, then per tensor `u8 rank`, `rank × u32 dim`, zero padding to a multiple of 4,
 * `product(dims) × float32` (IEEE 754 binary32, little-endian).
 *
 * @param tensors the tensors, in the model's weight order. Non-finite values are refused, so a
 *   diverged model never goes on the wire.
 * @throws ProtocolError MALFORMED_TENSORS for a shape/data mismatch, NON_FINITE for NaN/Infinity.
 */
export function encodeTensors(tensors: readonly WeightTensor[]): Uint8Array {
  const out = new Uint8Array(tensorsByteLength(tensors));
  writeTensors(tensors, out, 0);
  return out;
}

/**
 * Parses a blob written by {@link encodeTensors}. Every tensor's data is copied into a fresh,
 * aligned Float32Array, so the result never aliases `bytes` (Socket.IO hands out Buffers that may
 * start at an odd offset and may share a pooled ArrayBuffer).
 *
 * @param bytes the blob; any byteOffset.
 * @param opts limits, see {@link DecodeTensorsOptions}.
 * @throws ProtocolError MALFORMED_TENSORS for truncation, trailing bytes, bad padding, a rank above
 *   {@link MAX_TENSOR_RANK} or a limit exceeded; NON_FINITE for NaN/Infinity when `requireFinite`.
 */
export function decodeTensors(bytes: Uint8Array, opts: DecodeTensorsOptions = {}): WeightTensor[] {
  if (!types.isUint8Array(bytes)) {
    throw new ProtocolError('MALFORMED_TENSORS', 'tensor blob must be a Uint8Array');
  }
  const maxTensors = opts.maxTensors ?? DEFAULT_MAX_TENSORS;
  const maxElements = opts.maxElements ?? Number.POSITIVE_INFINITY;
  const requireFinite = opts.requireFinite ?? true;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = bytes.byteLength;

  if (total < 4) {
    throw new ProtocolError('MALFORMED_TENSORS', `tensor blob is ${total} bytes, shorter than its 4-byte count`);
  }
  const count = view.getUint32(0, true);
  if (count > maxTensors) {
    throw new ProtocolError('MALFORMED_TENSORS', `tensor blob declares ${count} tensors, limit is ${maxTensors}`);
  }
  // Each tensor needs at least its rank byte: a cheap bound before allocating anything.
  if (count > total - 4) {
    throw new ProtocolError('MALFORMED_TENSORS', `tensor blob declares ${count} tensors but has only ${total - 4} bytes left`);
  }

  const tensors: WeightTensor[] = [];
  let offset = 4;
  let elementsSoFar = 0;
  for (let index = 0; index < count; index++) {
    if (offset + 1 > total) {
      throw new ProtocolError('MALFORMED_TENSORS', `tensor ${index}: truncated before its rank`);
    }
    const rank = view.getUint8(offset);
    offset += 1;
    if (rank > MAX_TENSOR_RANK) {
      throw new ProtocolError('MALFORMED_TENSORS', `tensor ${index}: rank ${rank} exceeds ${MAX_TENSOR_RANK}`);
    }
    if (offset + 4 * rank > total) {
      throw new ProtocolError('MALFORMED_TENSORS', `tensor ${index}: truncated inside its shape`);
    }
    const shape: number[] = [];
    let elements = 1;
    for (let r = 0; r < rank; r++) {
      const d = view.getUint32(offset, true);
      offset += 4;
      shape.push(d);
      elements *= d;
    }
    const dataStart = align4(offset);
    if (dataStart > total) {
      throw new ProtocolError('MALFORMED_TENSORS', `tensor ${index}: truncated inside its padding`);
    }
    for (let p = offset; p < dataStart; p++) {
      if (bytes[p] !== 0) {
        throw new ProtocolError('MALFORMED_TENSORS', `tensor ${index}: padding bytes must be zero`);
      }
    }
    // `elements` is a product of up to 8 u32s and may exceed 2^53; comparing against the bytes
    // left keeps every later multiplication exact.
    if (elements > (total - dataStart) / 4) {
      throw new ProtocolError(
        'MALFORMED_TENSORS',
        `tensor ${index}: shape [${shape.join(', ')}] needs more bytes than the blob has left`,
      );
    }
    elementsSoFar += elements;
    if (elementsSoFar > maxElements) {
      throw new ProtocolError('MALFORMED_TENSORS', `tensors hold more than the limit of ${maxElements} elements`);
    }
    const data = new Float32Array(elements);
    const byteLength = 4 * elements;
    if (HOST_IS_LITTLE_ENDIAN) {
      new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + byteLength));
    } else {
      for (let i = 0; i < elements; i++) data[i] = view.getFloat32(dataStart + 4 * i, true);
    }
    if (requireFinite) {
      const bad = firstNonFinite(data);
      if (bad >= 0) {
        throw new ProtocolError('NON_FINITE', `tensor ${index} has a non-finite value at element ${bad}`);
      }
    }
    tensors.push({ shape, data });
    offset = dataStart + byteLength;
  }
  if (offset !== total) {
    throw new ProtocolError('MALFORMED_TENSORS', `tensor blob has ${total - offset} trailing bytes`);
  }
  return tensors;
}
