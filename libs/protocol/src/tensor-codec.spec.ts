import { ProtocolError } from './protocol-error';
import { MAX_TENSOR_RANK, WeightTensor, decodeTensors, encodeTensors, tensorsByteLength, writeTensors } from './tensor-codec';

function codeOf(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return 'NO_ERROR';
}

/** Copies bytes into a Buffer that starts `offset` bytes into its ArrayBuffer. */
function atOffset(bytes: Uint8Array, offset: number): Buffer {
  const backing = Buffer.alloc(bytes.length + offset + 3, 0xee);
  backing.set(bytes, offset);
  return backing.subarray(offset, offset + bytes.length);
}

// A deterministic PRNG (mulberry32) so garbage tests are reproducible.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sample = (): WeightTensor[] => [
  { shape: [3, 2], data: Float32Array.from([0.5, -1.25, 3, 4, 1e-30, -7.5]) },
  { shape: [2], data: Float32Array.from([1, -2]) },
  { shape: [], data: Float32Array.from([42]) },
  { shape: [0, 4], data: new Float32Array(0) },
  { shape: [1, 1, 1, 3], data: Float32Array.from([9, 8, 7]) },
];

describe('encodeTensors', () => {
  it('writes the documented layout (known answer)', () => {
    // Arrange: one tensor, shape [2], values 1 and -2.
    const tensors = [{ shape: [2], data: Float32Array.from([1, -2]) }];

    // Act
    const bytes = encodeTensors(tensors);

    // Assert: count, rank, dim, 3 padding bytes to offset 12, then IEEE-754 LE 1.0 and -2.0.
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '01000000' + '01' + '02000000' + '000000' + '0000803f' + '000000c0',
    );
  });

  it('writes a scalar with padding to offset 8', () => {
    const bytes = encodeTensors([{ shape: [], data: Float32Array.from([0.5]) }]);

    expect(Buffer.from(bytes).toString('hex')).toBe('01000000' + '00' + '000000' + '0000003f');
  });

  it('writes an empty list as a zero count', () => {
    expect(Array.from(encodeTensors([]))).toEqual([0, 0, 0, 0]);
  });

  it('encodes a Float32Array that is a view at an odd offset of a larger buffer', () => {
    const backing = new Float32Array([99, 1, -2, 99]);
    const view = backing.subarray(1, 3);

    const bytes = encodeTensors([{ shape: [2], data: view }]);

    expect(Buffer.from(bytes).toString('hex')).toBe('01000000' + '01' + '02000000' + '000000' + '0000803f' + '000000c0');
  });

  it('writeTensors at an odd offset of dirty memory gives the same bytes as encodeTensors', () => {
    const tensors = sample();
    const size = tensorsByteLength(tensors);
    const target = new Uint8Array(size + 7).fill(0xaa);

    const end = writeTensors(tensors, target, 3);

    expect(end).toBe(3 + size);
    expect(Buffer.from(target.subarray(3, end)).equals(Buffer.from(encodeTensors(tensors)))).toBe(true);
    expect([target[0], target[1], target[2], target[end]]).toEqual([0xaa, 0xaa, 0xaa, 0xaa]);
  });

  it.each<[string, WeightTensor, string]>([
    ['shape/data size mismatch', { shape: [2, 2], data: new Float32Array(3) }, 'MALFORMED_TENSORS'],
    ['a negative dim', { shape: [-1], data: new Float32Array(0) }, 'MALFORMED_TENSORS'],
    ['a fractional dim', { shape: [1.5], data: new Float32Array(1) }, 'MALFORMED_TENSORS'],
    ['rank above the limit', { shape: Array(MAX_TENSOR_RANK + 1).fill(1), data: new Float32Array(1) }, 'MALFORMED_TENSORS'],
    ['Float64Array data', { shape: [1], data: new Float64Array(1) as unknown as Float32Array }, 'MALFORMED_TENSORS'],
    ['a plain array as data', { shape: [1], data: [1] as unknown as Float32Array }, 'MALFORMED_TENSORS'],
    ['NaN', { shape: [3], data: Float32Array.from([1, Number.NaN, 2]) }, 'NON_FINITE'],
    ['Infinity', { shape: [1], data: Float32Array.from([Number.POSITIVE_INFINITY]) }, 'NON_FINITE'],
    ['-Infinity', { shape: [2], data: Float32Array.from([0, Number.NEGATIVE_INFINITY]) }, 'NON_FINITE'],
  ])('refuses %s', (_label, tensor, code) => {
    expect(codeOf(() => encodeTensors([tensor]))).toBe(code);
  });

  it('names the tensor and element of a non-finite value', () => {
    const tensors = [{ shape: [1], data: Float32Array.from([1]) }, { shape: [3], data: Float32Array.from([1, 2, Number.NaN]) }];

    expect(() => encodeTensors(tensors)).toThrow('tensor 1 has a non-finite value at element 2');
  });
});

describe('decodeTensors', () => {
  it('round-trips shapes and values exactly', () => {
    const tensors = sample();

    const decoded = decodeTensors(encodeTensors(tensors));

    expect(decoded.map((t) => t.shape)).toEqual([[3, 2], [2], [], [0, 4], [1, 1, 1, 3]]);
    expect(Array.from(decoded[0].data)).toEqual([0.5, -1.25, 3, 4, Math.fround(1e-30), -7.5]);
    expect(Array.from(decoded[2].data)).toEqual([42]);
    expect(decoded[3].data).toHaveLength(0);
    expect(Array.from(decoded[4].data)).toEqual([9, 8, 7]);
  });

  it.each([1, 2, 3, 5, 7])('decodes a blob that starts %i bytes into its buffer, into aligned copies', (offset) => {
    // Arrange
    const blob = encodeTensors(sample());
    const unaligned = atOffset(blob, offset);
    expect(unaligned.byteOffset % 4).not.toBe(0);

    // Act
    const decoded = decodeTensors(unaligned);
    unaligned.fill(0);

    // Assert: values survive the input being overwritten, so nothing aliases it.
    expect(Array.from(decoded[1].data)).toEqual([1, -2]);
    for (const t of decoded) expect(t.data.byteOffset % 4).toBe(0);
  });

  it('refuses every truncation of a valid blob', () => {
    const blob = encodeTensors(sample());

    const codes = new Set<string>();
    for (let length = 0; length < blob.length; length++) codes.add(codeOf(() => decodeTensors(blob.subarray(0, length))));

    expect([...codes]).toEqual(['MALFORMED_TENSORS']);
  });

  it('refuses trailing bytes', () => {
    const blob = encodeTensors(sample());
    const longer = new Uint8Array(blob.length + 1);
    longer.set(blob);

    expect(codeOf(() => decodeTensors(longer))).toBe('MALFORMED_TENSORS');
  });

  it('refuses non-zero padding', () => {
    const blob = encodeTensors([{ shape: [2], data: Float32Array.from([1, -2]) }]);
    blob[10] = 1;

    expect(codeOf(() => decodeTensors(blob))).toBe('MALFORMED_TENSORS');
  });

  it('refuses a rank above the limit', () => {
    const blob = Uint8Array.from([1, 0, 0, 0, MAX_TENSOR_RANK + 1, ...Array(4 * (MAX_TENSOR_RANK + 1)).fill(0)]);

    expect(() => decodeTensors(blob)).toThrow(/rank 9 exceeds 8/);
  });

  it('refuses huge dims without allocating', () => {
    // rank 8, every dim 2^32-1: 2^256 elements claimed in a 40-byte blob.
    const blob = Uint8Array.from([1, 0, 0, 0, 8, ...Array(32).fill(0xff), 0, 0, 0]);

    expect(codeOf(() => decodeTensors(blob))).toBe('MALFORMED_TENSORS');
  });

  it('refuses a count larger than the bytes could hold', () => {
    expect(codeOf(() => decodeTensors(Uint8Array.from([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0])))).toBe('MALFORMED_TENSORS');
  });

  it('enforces maxTensors and maxElements', () => {
    const blob = encodeTensors(sample());

    expect(codeOf(() => decodeTensors(blob, { maxTensors: 4 }))).toBe('MALFORMED_TENSORS');
    expect(codeOf(() => decodeTensors(blob, { maxElements: 11 }))).toBe('MALFORMED_TENSORS');
    expect(decodeTensors(blob, { maxTensors: 5, maxElements: 12 })).toHaveLength(5);
  });

  it.each([
    ['NaN', '0000c07f'],
    ['Infinity', '0000807f'],
    ['-Infinity', '000080ff'],
  ])('refuses %s (NON_FINITE) unless requireFinite is false', (_label, hex) => {
    // Arrange: hand-written blob, as encodeTensors refuses to produce one.
    const blob = Buffer.from('01000000' + '01' + '02000000' + '000000' + '0000803f' + hex, 'hex');

    // Act + Assert
    expect(codeOf(() => decodeTensors(blob))).toBe('NON_FINITE');
    expect(decodeTensors(blob, { requireFinite: false })[0].data[0]).toBe(1);
  });

  it('never throws anything but ProtocolError on random garbage', () => {
    const random = prng(20240601);
    const codes = new Set<string>();

    for (let trial = 0; trial < 2000; trial++) {
      const length = Math.floor(random() * 64);
      const blob = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      // Small counts make the garbage reach the rank/shape/data checks, not only the count check.
      if (length >= 4 && trial % 2 === 0) blob.set([Math.floor(random() * 3), 0, 0, 0], 0);
      codes.add(codeOf(() => decodeTensors(blob)));
    }

    expect([...codes].every((code) => ['MALFORMED_TENSORS', 'NON_FINITE', 'NO_ERROR'].includes(code))).toBe(true);
    expect(codes.has('MALFORMED_TENSORS')).toBe(true);
  });

  it.each([['a string', 'abcd'], ['null', null], ['an array', [0, 0, 0, 0]]])('refuses %s as input', (_label, input) => {
    expect(codeOf(() => decodeTensors(input as unknown as Uint8Array))).toBe('MALFORMED_TENSORS');
  });
});
