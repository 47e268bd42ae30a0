import * as zlib from 'node:zlib';

import { crc32, encodePng, hotColour, PngEncodingError, saliencyHeatmapPng } from './png.writer';

interface DecodedChunk {
  type: string;
  data: Buffer;
  crc: number;
  /** The CRC recomputed with node:zlib's own implementation (an independent reference). */
  expectedCrc: number;
}

/** Splits a PNG into its chunks, checking the signature (an independent minimal reader for the tests). */
function readChunks(png: Buffer): DecodedChunk[] {
  expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const chunks: DecodedChunk[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const typeAndData = png.subarray(at + 4, at + 8 + length);
    chunks.push({
      type: typeAndData.subarray(0, 4).toString('latin1'),
      data: Buffer.from(typeAndData.subarray(4)),
      crc: png.readUInt32BE(at + 8 + length),
      expectedCrc: zlib.crc32(typeAndData),
    });
    at += 12 + length;
  }
  return chunks;
}

/** Width, height, colour type and the unfiltered pixel bytes (only filter type 0 is accepted). */
function decode(png: Buffer): { width: number; height: number; bitDepth: number; colourType: number; pixels: Buffer } {
  const chunks = readChunks(png);
  expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  for (const c of chunks) expect(c.crc).toBe(c.expectedCrc);
  const ihdr = chunks[0].data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const channels = ihdr[9] === 0 ? 1 : 3;
  const raw = zlib.inflateSync(chunks[1].data);
  expect(raw.length).toBe((width * channels + 1) * height);
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const start = y * (width * channels + 1);
    expect(raw[start]).toBe(0);
    rows.push(raw.subarray(start + 1, start + 1 + width * channels));
  }
  return { width, height, bitDepth: ihdr[8], colourType: ihdr[9], pixels: Buffer.concat(rows) };
}

describe('crc32', () => {
  it('gives the standard check value of "123456789" (0xCBF43926)', () => {
    expect(crc32(Buffer.from('123456789', 'latin1'))).toBe(0xcbf43926);
  });
});

describe('encodePng', () => {
  it('writes an RGB image whose chunks, CRCs and pixels decode back exactly', () => {
    // Arrange: 3×2, every byte distinct.
    const pixels = Uint8Array.from({ length: 18 }, (_, i) => i * 13);

    // Act
    const png = encodePng(3, 2, pixels, 3);

    // Assert
    const decoded = decode(png);
    expect(decoded).toMatchObject({ width: 3, height: 2, bitDepth: 8, colourType: 2 });
    expect(Array.from(decoded.pixels)).toEqual(Array.from(pixels));
  });

  it('writes grey-scale images with colour type 0', () => {
    const decoded = decode(encodePng(2, 2, Uint8Array.from([0, 255, 128, 7]), 1));
    expect(decoded.colourType).toBe(0);
    expect(Array.from(decoded.pixels)).toEqual([0, 255, 128, 7]);
  });

  it('refuses pixel data of the wrong length, naming the sizes', () => {
    expect(() => encodePng(3, 2, new Uint8Array(17), 3)).toThrow(PngEncodingError);
    expect(() => encodePng(3, 2, new Uint8Array(17), 3)).toThrow('3×2×3 needs 18 bytes, got 17');
  });
});

describe('saliencyHeatmapPng', () => {
  it('puts the min–max scaled image left and the hot-mapped |saliency| right, each pixel a scale × scale block', () => {
    // Arrange: a 2×1 image [0, 10] with saliency [−4, 2]: grey 0 and 255; heat 1 (white) and 0.5.
    const image = Float32Array.from([0, 10]);
    const saliency = Float32Array.from([-4, 2]);

    // Act
    const decoded = decode(saliencyHeatmapPng(image, saliency, 2, 1, { scale: 2 }));

    // Assert: 8 pixels wide (2 panels × 2 pixels × scale 2), 2 high; row 0 = row 1.
    expect(decoded).toMatchObject({ width: 8, height: 2, colourType: 2 });
    const row = Array.from(decoded.pixels.subarray(0, 24));
    const half = [255, 128, 0]; // hot(0.5): red full, green (1.5 − 1) × 255 rounded, blue 0
    expect(hotColour(0.5)).toEqual(half);
    expect(row).toEqual([0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, ...half, ...half]);
    expect(Array.from(decoded.pixels.subarray(24))).toEqual(row);
  });

  it('refuses a saliency map of another size', () => {
    expect(() => saliencyHeatmapPng(new Float32Array(4), new Float32Array(3), 2, 2)).toThrow(PngEncodingError);
  });
});
