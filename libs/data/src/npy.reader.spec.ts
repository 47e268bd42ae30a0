import { DataSchemaError } from './data-schema.error';
import { parseNpy } from './npy.reader';

/** Builds a .npy file by hand: magic, version, padded header (to a multiple of 64 as NumPy does), then `data`. */
function npy(header: string, data: number[], major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  const padded = header + ' '.repeat(64 - ((prefix + header.length + 1) % 64 || 64)) + '\n';
  const out = new Uint8Array(prefix + padded.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  out.set(new TextEncoder().encode(padded), prefix);
  out.set(data, prefix + padded.length);
  return out;
}

describe('parseNpy', () => {
  it('reads a v1 uint8 2×3 array in C order', () => {
    // Arrange
    const bytes = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", [0, 1, 2, 253, 254, 255]);

    // Act
    const arr = parseNpy(bytes, 'a.npy');

    // Assert
    expect(arr.dtype).toBe('uint8');
    expect(arr.shape).toEqual([2, 3]);
    expect(Array.from(arr.data)).toEqual([0, 1, 2, 253, 254, 255]);
  });

  it('reads a v2 little-endian int64 vector, including negatives', () => {
    // Arrange: 1 and -2 as little-endian two's-complement 64-bit integers.
    const data = [1, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    const bytes = npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", data, 2);

    // Act
    const arr = parseNpy(bytes, 'b.npy');

    // Assert
    expect(arr.dtype).toBe('int64');
    expect(arr.shape).toEqual([2]);
    expect(Array.from(arr.data)).toEqual([1, -2]);
  });

  it('reads big-endian int16, little-endian float32 and a 0-d scalar', () => {
    // Arrange: 0x0102 = 258 big-endian; 1.5f = 0x3fc00000 little-endian.
    const be = npy("{'descr': '>i2', 'fortran_order': False, 'shape': (1,), }", [0x01, 0x02]);
    const f32 = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", [0x00, 0x00, 0xc0, 0x3f]);

    // Act & Assert
    expect(Array.from(parseNpy(be, 'c.npy').data)).toEqual([258]);
    const scalar = parseNpy(f32, 'd.npy');
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data)).toEqual([1.5]);
  });

  it.each([
    ['a wrong magic', (() => { const b = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", [7]); b[1] = 0x58; return b; })(), /bad magic/],
    ['Fortran order', npy("{'descr': '|u1', 'fortran_order': True, 'shape': (1,), }", [7]), /Fortran/],
    ['an unsupported dtype', npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", [7]), /dtype <c8/],
    ['too few data bytes', npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", [1, 2, 3]), /truncated/],
    ['an unknown version', npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", [7], 9), /version 9/],
  ])('rejects %s with a DataSchemaError naming the file', (_label, bytes, message) => {
    // Act
    const act = () => parseNpy(bytes, 'bad.npy');

    // Assert
    expect(act).toThrow(DataSchemaError);
    expect(act).toThrow(message);
    expect(act).toThrow(/^bad\.npy: /);
  });
});
