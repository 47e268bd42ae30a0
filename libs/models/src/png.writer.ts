import { deflateSync } from 'node:zlib';

/** The 8-byte PNG signature (PNG spec, ISO/IEC 15948, §5.2). */
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let crcTable: Uint32Array | undefined;

/**
 * CRC-32 (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320) as PNG chunks use it (PNG spec Annex D).
 * @param bytes the chunk type and data.
 */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  typeAndData.copy(out, 4);
  out.writeUInt32BE(crc32(typeAndData), 8 + data.length);
  return out;
}

/** Raised when pixel data do not fit the declared image size. */
export class PngEncodingError extends Error {
  override readonly name = 'PngEncodingError';
}

/**
 * Encodes an 8-bit grey-scale (1 channel) or RGB (3 channels) image as a PNG: signature, IHDR, one zlib-compressed
 * IDAT (every scanline with filter type 0, none) and IEND, each chunk with its CRC-32. No dependencies beyond node:zlib.
 *
 * @param width image width in pixels (≥ 1).
 * @param height image height in pixels (≥ 1).
 * @param pixels row-major bytes, width × height × channels.
 * @param channels 1 (grey) or 3 (RGB); default 3.
 * @throws PngEncodingError when the sizes or the pixel count do not match.
 */
export function encodePng(width: number, height: number, pixels: Uint8Array, channels: 1 | 3 = 3): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new PngEncodingError(`image size must be positive integers, got ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3) throw new PngEncodingError(`channels must be 1 or 3, got ${String(channels)}`);
  const stride = width * channels;
  if (pixels.length !== stride * height) {
    throw new PngEncodingError(`${width}×${height}×${channels} needs ${stride * height} bytes, got ${pixels.length}`);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = channels === 1 ? 0 : 2; // colour type: greyscale or truecolour
  // Bytes 10–12: compression 0 (deflate), filter method 0, no interlace.
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0;
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/**
 * The "hot" colour map (black → red → yellow → white) at t ∈ [0, 1], as 8-bit RGB.
 * @param t intensity; clamped to [0, 1].
 */
export function hotColour(t: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * 3;
  const channel = (x: number): number => Math.round(Math.min(1, Math.max(0, x)) * 255);
  return [channel(v), channel(v - 1), channel(v - 2)];
}

/** Options of {@link saliencyHeatmapPng}. */
export interface HeatmapOptions {
  /** Each pixel becomes a scale × scale block; default 8 (a 28×28 image becomes 224×224 per panel). */
  scale?: number;
}

/**
 * A PNG with the image (grey, min–max scaled) on the left and the magnitude of its saliency map on the right, in the
 * "hot" colour map scaled to the map's largest |value| (all-zero maps are black).
 *
 * @param image height × width values (one channel), any range.
 * @param saliency height × width attributions of the same image (e.g. from `cnnSaliency`).
 * @throws PngEncodingError when the arrays do not hold height × width values or scale is not a positive integer.
 */
export function saliencyHeatmapPng(image: Float32Array, saliency: Float32Array, width: number, height: number, options: HeatmapOptions = {}): Buffer {
  const scale = options.scale ?? 8;
  if (!Number.isInteger(scale) || scale < 1) throw new PngEncodingError(`scale must be a positive integer, got ${scale}`);
  if (image.length !== width * height || saliency.length !== width * height) {
    throw new PngEncodingError(`image and saliency must hold ${width}×${height} = ${width * height} values, got ${image.length} and ${saliency.length}`);
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let peak = 0;
  for (let i = 0; i < image.length; i++) {
    min = Math.min(min, image[i]);
    max = Math.max(max, image[i]);
    peak = Math.max(peak, Math.abs(saliency[i]));
  }
  const span = max > min ? max - min : 1;
  const outWidth = 2 * width * scale;
  const outHeight = height * scale;
  const rgb = new Uint8Array(outWidth * outHeight * 3);
  for (let y = 0; y < outHeight; y++) {
    const sy = Math.floor(y / scale);
    for (let x = 0; x < outWidth; x++) {
      const right = x >= width * scale;
      const sx = Math.floor((right ? x - width * scale : x) / scale);
      const i = sy * width + sx;
      const at = (y * outWidth + x) * 3;
      if (right) {
        rgb.set(hotColour(peak > 0 ? Math.abs(saliency[i]) / peak : 0), at);
      } else {
        const grey = Math.round(((image[i] - min) / span) * 255);
        rgb[at] = grey;
        rgb[at + 1] = grey;
        rgb[at + 2] = grey;
      }
    }
  }
  return encodePng(outWidth, outHeight, rgb, 3);
}
