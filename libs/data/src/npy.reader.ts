import { DataSchemaError } from './data-schema.error';

/** The element types a `.npy` array may hold here (NumPy `descr` kinds b, i, u, f). */
export type NpyDtype = 'bool' | 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'int64' | 'uint64' | 'float32' | 'float64';

/** One array read from a `.npy` file: its dtype, shape and elements in C (row-major) order, converted to float64. */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Elements in row-major order. 64-bit integers beyond ±2^53 lose precision (never the case for labels or pixels). */
  data: Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** NumPy `descr` codes (without byte-order prefix) → dtype and element size in bytes. */
const DESCR: Readonly<Record<string, { dtype: NpyDtype; size: number }>> = {
  b1: { dtype: 'bool', size: 1 },
  u1: { dtype: 'uint8', size: 1 },
  i1: { dtype: 'int8', size: 1 },
  u2: { dtype: 'uint16', size: 2 },
  i2: { dtype: 'int16', size: 2 },
  u4: { dtype: 'uint32', size: 4 },
  i4: { dtype: 'int32', size: 4 },
  i8: { dtype: 'int64', size: 8 },
  u8: { dtype: 'uint64', size: 8 },
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
};

/**
 * Parses a `.npy` file (NumPy format versions 1.0, 2.0 and 3.0, as specified in NumPy's
 * `numpy/lib/format.py` / NEP 1): magic, version, little-endian header length (2 bytes in v1, 4 in v2/v3),
 * a Python-dict header with `descr`, `fortran_order` and `shape`, then the raw elements.
 * Only C-order arrays of plain numeric dtypes are accepted.
 * @param bytes the whole file
 * @param file name used in error messages (never the data)
 * @throws DataSchemaError on a wrong magic, an unsupported version/dtype/order, or too few data bytes
 */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new DataSchemaError(`${file}: not a .npy file (bad magic)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new DataSchemaError(`${file}: .npy header is truncated`);
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new DataSchemaError(`${file}: unsupported .npy format version ${major}`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw new DataSchemaError(`${file}: .npy header is truncated`);
  // v3 only differs by allowing UTF-8 in the header; the fields we read are ASCII either way.
  const header = new TextDecoder().decode(bytes.subarray(headerStart, dataStart));

  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(header);
  const order = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shapeMatch) throw new DataSchemaError(`${file}: .npy header lacks descr, fortran_order or shape`);
  const kind = DESCR[descr[2]];
  if (!kind) throw new DataSchemaError(`${file}: unsupported .npy dtype ${descr[1]}${descr[2]}`);
  if (order[1] === 'True') throw new DataSchemaError(`${file}: Fortran-order .npy arrays are not supported`);
  const shape = shapeMatch[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new DataSchemaError(`${file}: .npy shape is not a tuple of sizes`);

  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - dataStart < count * kind.size) {
    throw new DataSchemaError(`${file}: .npy data is truncated (${bytes.length - dataStart} bytes for ${count} elements of ${kind.size})`);
  }
  // '|' (not applicable) and '=' (native; every platform Node targets here is little-endian) both read as little-endian.
  const little = descr[1] !== '>';
  return { dtype: kind.dtype, shape, data: readElements(view, dataStart, count, kind.dtype, little) };
}

/** Reads `count` elements of `dtype` from `view` at `offset`, with DataView so alignment and byte order never matter. */
function readElements(view: DataView, offset: number, count: number, dtype: NpyDtype, little: boolean): Float64Array {
  const out = new Float64Array(count);
  switch (dtype) {
    case 'bool':
    case 'uint8':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(offset + i);
      break;
    case 'int8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(offset + i);
      break;
    case 'uint16':
      for (let i = 0; i < count; i++) out[i] = view.getUint16(offset + 2 * i, little);
      break;
    case 'int16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, little);
      break;
    case 'uint32':
      for (let i = 0; i < count; i++) out[i] = view.getUint32(offset + 4 * i, little);
      break;
    case 'int32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, little);
      break;
    case 'int64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(offset + 8 * i, little));
      break;
    case 'uint64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigUint64(offset + 8 * i, little));
      break;
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, little);
      break;
    case 'float64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, little);
      break;
  }
  return out;
}
