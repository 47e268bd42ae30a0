import { cryptoGaussianSource, GaussianSource } from './gaussian.source';
import { PrivacyConfigError } from './privacy.errors';
import { DpSettings } from './rdp.accountant';

function l2Norm(layers: readonly Float32Array[]): number {
  // Scaled accumulation (as in BLAS dnrm2) so very large or tiny updates neither overflow nor underflow.
  let scale = 0;
  let ssq = 1;
  for (const layer of layers) {
    for (let i = 0; i < layer.length; i++) {
      const v = layer[i];
      if (v === 0) continue;
      const a = Math.abs(v);
      if (scale < a) {
        ssq = 1 + ssq * (scale / a) * (scale / a);
        scale = a;
      } else {
        ssq += (a / scale) * (a / scale);
      }
    }
  }
  return scale * Math.sqrt(ssq);
}

/**
 * Clips a site's whole update (all layers as one vector) to L2 norm ≤ `clipNorm`, the per-client clipping of
 * DP-FedAvg (McMahan et al. 2018, "Learning Differentially Private Recurrent Language Models", Alg. 1):
 * Δ · min(1, C/‖Δ‖). The norm is computed in float64; after rounding to float32 the result is re-checked
 * and shrunk by one more ulp-sized step if rounding pushed it over C.
 * @param layers - the update; not modified; every value must be finite (`PrivacyConfigError` otherwise)
 * @param clipNorm - C, > 0
 * @returns the clipped copy, the original norm and the factor applied (1 when already within C)
 */
export function clipUpdate(layers: readonly Float32Array[], clipNorm: number): { clipped: Float32Array[]; norm: number; scale: number } {
  if (!(clipNorm > 0) || !Number.isFinite(clipNorm)) throw new PrivacyConfigError(`clipNorm must be a positive finite number, got ${clipNorm}`);
  layers.forEach((layer, index) => {
    for (let i = 0; i < layer.length; i++) {
      if (!Number.isFinite(layer[i])) throw new PrivacyConfigError(`update layer ${index} has a non-finite value at index ${i}`);
    }
  });
  const norm = l2Norm(layers);
  if (norm <= clipNorm) return { clipped: layers.map((layer) => Float32Array.from(layer)), norm, scale: 1 };
  let scale = clipNorm / norm;
  let clipped = layers.map((layer) => layer.map((v) => v * scale));
  for (let attempt = 0; attempt < 8 && l2Norm(clipped) > clipNorm; attempt++) {
    // float32 rounding of each coordinate can add up to ~6e-8 relative; step just below C instead.
    scale *= 1 - 2 ** -22 * (attempt + 1);
    const s = scale;
    clipped = layers.map((layer) => layer.map((v) => v * s));
  }
  return { clipped, norm, scale };
}

/**
 * The per-coordinate noise standard deviation a party adds under DP-FedAvg: σ = z · C / divisor, where the
 * divisor is the fixed denominator of the average (1 to noise the sum). With `split` placement each of
 * `sites` parties adds σ/√sites so that the sum of their noise has standard deviation σ.
 * @param settings - z (`noiseMultiplier`), C (`clipNorm`) and `noisePlacement`
 * @param options.divisor - the averaging denominator (default 1); DP needs it fixed in advance, not the
 *   number of updates that happened to arrive, and the average must be unweighted (or weights bounded)
 * @param options.sites - for `split`: how many parties add noise (required, ≥ 1)
 */
export function noiseStddev(
  settings: Pick<DpSettings, 'noiseMultiplier' | 'clipNorm' | 'noisePlacement'>,
  options: { divisor?: number; sites?: number } = {},
): number {
  const divisor = options.divisor ?? 1;
  if (!(divisor > 0) || !Number.isFinite(divisor)) throw new PrivacyConfigError(`divisor must be a positive finite number, got ${divisor}`);
  if (!(settings.noiseMultiplier >= 0) || !Number.isFinite(settings.noiseMultiplier)) {
    throw new PrivacyConfigError(`noiseMultiplier must be a non-negative finite number, got ${settings.noiseMultiplier}`);
  }
  if (!(settings.clipNorm > 0) || !Number.isFinite(settings.clipNorm)) throw new PrivacyConfigError(`clipNorm must be a positive finite number, got ${settings.clipNorm}`);
  const central = (settings.noiseMultiplier * settings.clipNorm) / divisor;
  if (settings.noisePlacement === 'central') return central;
  const sites = options.sites;
  if (sites === undefined || !Number.isInteger(sites) || sites < 1) {
    throw new PrivacyConfigError(`split noise needs the number of noising sites (an integer ≥ 1), got ${String(sites)}`);
  }
  return central / Math.sqrt(sites);
}

/**
 * Adds independent N(0, stddev²) noise to every coordinate of `layers`, in place (the Gaussian mechanism of
 * DP-FedAvg). Samples are drawn in float64 and added before the single rounding to float32.
 * @param layers - the (already clipped) update or sum, modified in place
 * @param stddev - per-coordinate standard deviation, ≥ 0 (see {@link noiseStddev})
 * @param rng - the normal source; defaults to Box–Muller over the OS CSPRNG ({@link cryptoGaussianSource})
 */
export function addGaussianNoise(layers: Float32Array[], stddev: number, rng: GaussianSource = cryptoGaussianSource()): void {
  if (!(stddev >= 0) || !Number.isFinite(stddev)) throw new PrivacyConfigError(`stddev must be a non-negative finite number, got ${stddev}`);
  if (stddev === 0) return;
  for (const layer of layers) {
    for (let i = 0; i < layer.length; i++) layer[i] += stddev * rng.nextGaussian();
  }
}
