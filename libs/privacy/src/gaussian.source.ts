import { randomBytes } from '@medfed/crypto';

/** A source of independent standard normal N(0, 1) samples in float64. */
export interface GaussianSource {
  /** The next N(0, 1) sample. */
  nextGaussian(): number;
}

/** A source of independent uniform samples in [0, 1) with 53 random bits each. */
export type UniformSource = () => number;

const TWO_POW_MINUS_53 = 2 ** -53;

/**
 * Turns uniforms into standard normals with the Box–Muller transform (Box & Muller 1958), entirely in
 * float64, returning both outputs of each pair. u1 is mapped into (0, 1] so log(u1) is finite; with 53-bit
 * uniforms the largest possible |sample| is √(−2 ln 2⁻⁵³) ≈ 8.57.
 * Known limit: like every floating-point sampler it is not an exact discrete Gaussian (Mironov 2012's
 * attack on floating-point Laplace noise has Gaussian analogues); fine against a model-inversion or
 * membership attacker who sees only float32 model updates.
 */
export function boxMullerGaussianSource(uniform: UniformSource): GaussianSource {
  let spare: number | null = null;
  return {
    nextGaussian(): number {
      if (spare !== null) {
        const z = spare;
        spare = null;
        return z;
      }
      const u1 = 1 - uniform();
      const u2 = uniform();
      const radius = Math.sqrt(-2 * Math.log(u1));
      const angle = 2 * Math.PI * u2;
      spare = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
  };
}

/**
 * Uniforms straight from the operating system's CSPRNG (`randomBytes` of `@medfed/crypto`), read in blocks
 * so one syscall serves thousands of samples. Every sample is cryptographic randomness, not a seeded PRNG,
 * so observed noise reveals nothing about future noise.
 * @param blockBytes - bytes fetched per refill (default 64 KiB; a multiple of 8)
 */
export function cryptoUniformSource(blockBytes = 65_536): UniformSource {
  if (!Number.isInteger(blockBytes) || blockBytes < 8 || blockBytes % 8 !== 0) {
    throw new RangeError(`blockBytes must be a positive multiple of 8, got ${blockBytes}`);
  }
  let view: DataView = new DataView(new ArrayBuffer(0));
  let offset = 0;
  return () => {
    if (offset >= view.byteLength) {
      const bytes = randomBytes(blockBytes);
      view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      offset = 0;
    }
    // 21 high bits + 32 low bits = 53 bits, the whole float64 mantissa.
    const hi = view.getUint32(offset) >>> 11;
    const lo = view.getUint32(offset + 4);
    offset += 8;
    return (hi * 4_294_967_296 + lo) * TWO_POW_MINUS_53;
  };
}

/** The default noise source: Box–Muller over {@link cryptoUniformSource}. */
export function cryptoGaussianSource(): GaussianSource {
  return boxMullerGaussianSource(cryptoUniformSource());
}
