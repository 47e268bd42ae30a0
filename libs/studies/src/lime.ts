import { mulberry32 } from '@medfed/data';
import type { ExampleSet, ShapedArray } from '@medfed/data';
import type { FederatedModel } from '@medfed/models';

import { AxisLayout, FeatureAxis, featureAxisLayout } from './feature-axis.util';

/** Options of `limeExplanation`. */
export interface LimeOptions {
  /** Perturbed samples, the first being the example itself (LIME's `num_samples`). Default 1000. */
  samples?: number;
  /**
   * Width σ of the kernel π(z) = √exp(−D²/σ²) on D = 1 − (features kept)/(features), in [0, 1].
   * Default 0.25 (LIME's text explainer: cosine distance × 100 with width 25).
   */
  kernelWidth?: number;
  /** L2 penalty α of the ridge fit (LIME uses sklearn's Ridge(alpha=1)). Default 1. */
  alpha?: number;
  /** Drives the perturbations (same seed → same explanation). */
  seed: number;
}

/** A local linear explanation of output 0 around one example. */
export interface LimeExplanation {
  /** The model's probabilities for the example (every output). */
  prediction: number[];
  /** The surrogate's value with every feature replaced (z = 0). */
  intercept: number;
  /** Surrogate coefficient per feature: change of P(output 0) when the feature keeps the example's value rather than a background one; sorted by |weight| descending. */
  weights: { name: string; weight: number }[];
  /** Kernel-weighted R² of the surrogate on the perturbed samples (how linear the model is there). */
  localR2: number;
}

/** Rows of perturbed samples predicted at once: bounds memory for sequence inputs (1000 × 48 × 37 × 3 floats otherwise). */
const PREDICT_CHUNK = 256;

/**
 * LIME (Ribeiro, Singh & Guestrin 2016, "Why should I trust you?", KDD; Algorithm 1) for tabular and sequence
 * inputs, explaining output 0 only (the first label column; multi-output models need one call per output).
 * Interpretable representation: z ∈ {0, 1}^d, z_j = 1 keeps feature j of the example, z_j = 0 replaces it — on
 * every input of `features.inputs`, at every inner position (time step) — by that feature of a "background"
 * example drawn uniformly from the other examples of `set` (one donor per sample, so replaced features keep
 * their joint distribution). As in LIME's text explainer, each sample removes a uniformly drawn number
 * 1..d of features chosen at random; sample 0 is the example itself. The samples are weighted by the kernel
 * √exp(−D²/σ²) on D = 1 − Σz/d and a weighted ridge regression (unpenalised intercept) of P(output 0) on z
 * gives the weights. Uses only the node's own data and runs only at the node that holds the patient:
 * nothing of it is ever sent.
 *
 * @param index the example to explain, in [0, set.n).
 * @throws RangeError on a bad index, fewer than 2 examples, samples < 2, kernelWidth ≤ 0 or alpha < 0;
 *   FeatureAxisError when `features` does not fit `set`.
 */
export async function limeExplanation(
  model: FederatedModel,
  set: ExampleSet,
  index: number,
  features: FeatureAxis,
  options: LimeOptions,
): Promise<LimeExplanation> {
  const samples = options.samples ?? 1000;
  const width = options.kernelWidth ?? 0.25;
  const alpha = options.alpha ?? 1;
  if (!Number.isInteger(index) || index < 0 || index >= set.n) throw new RangeError(`limeExplanation: index ${index} is outside [0, ${set.n})`);
  if (set.n < 2) throw new RangeError(`limeExplanation needs at least 2 examples (one to explain, one background), got ${set.n}`);
  if (!Number.isInteger(samples) || samples < 2) throw new RangeError(`limeExplanation: samples must be an integer ≥ 2, got ${samples}`);
  if (!(width > 0)) throw new RangeError(`limeExplanation: kernelWidth must be > 0, got ${width}`);
  if (!(alpha >= 0)) throw new RangeError(`limeExplanation: alpha must be ≥ 0, got ${alpha}`);
  const layouts = featureAxisLayout(set, features);
  const d = features.names.length;
  const outputs = set.labels.shape[1] ?? 1;

  const { z, donors } = drawPerturbations(samples, d, set.n, index, mulberry32(options.seed));
  const y = new Float64Array(samples);
  let prediction: number[] = [];
  for (let start = 0; start < samples; start += PREDICT_CHUNK) {
    const count = Math.min(PREDICT_CHUNK, samples - start);
    const chunk = perturbedSet(set, layouts, d, index, z.subarray(start * d, (start + count) * d), donors.subarray(start, start + count), outputs);
    const p = await model.predict(chunk);
    for (let s = 0; s < count; s++) y[start + s] = p[s * outputs];
    if (start === 0) prediction = Array.from(p.subarray(0, outputs));
  }

  const kernel = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    let kept = 0;
    for (let j = 0; j < d; j++) kept += z[s * d + j];
    kernel[s] = limeKernel(kept, d, width);
  }
  const fit = weightedRidge(z, y, kernel, samples, d, alpha);
  const weights = features.names
    .map((name, j) => ({ name, weight: fit.coefficients[j], j }))
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.j - b.j)
    .map(({ name, weight }) => ({ name, weight }));
  return { prediction, intercept: fit.intercept, weights, localR2: fit.r2 };
}

/**
 * LIME's exponential kernel (lime_base.py: √exp(−D²/σ²)) on the fraction of features replaced,
 * D = 1 − kept/d: 1 for the example itself, falling with every feature replaced.
 */
export function limeKernel(kept: number, d: number, width: number): number {
  const distance = 1 - kept / d;
  return Math.sqrt(Math.exp(-(distance * distance) / (width * width)));
}

/** z [samples × d] (sample 0 all ones) and one donor example per sample (never `index`). */
function drawPerturbations(samples: number, d: number, n: number, index: number, random: () => number): { z: Uint8Array; donors: Int32Array } {
  const z = new Uint8Array(samples * d).fill(1);
  const donors = new Int32Array(samples).fill(-1);
  const order = Array.from({ length: d }, (_, j) => j);
  for (let s = 1; s < samples; s++) {
    const removed = 1 + Math.floor(random() * d);
    // Partial Fisher–Yates: the first `removed` entries of `order` are a uniform random subset.
    for (let i = 0; i < removed; i++) {
      const k = i + Math.floor(random() * (d - i));
      [order[i], order[k]] = [order[k], order[i]];
      z[s * d + order[i]] = 0;
    }
    const donor = Math.floor(random() * (n - 1));
    donors[s] = donor >= index ? donor + 1 : donor;
  }
  return { z, donors };
}

/** The example repeated once per sample, with each sample's z = 0 features taken from its donor; labels all missing. */
function perturbedSet(
  set: ExampleSet,
  layouts: readonly AxisLayout[],
  d: number,
  index: number,
  z: Uint8Array,
  donors: Int32Array,
  outputs: number,
): ExampleSet {
  const count = donors.length;
  const inputs: Record<string, ShapedArray> = {};
  for (const [name, array] of Object.entries(set.inputs)) {
    const rowSize = array.shape.slice(1).reduce((p, s) => p * s, 1);
    const row = array.data.subarray(index * rowSize, (index + 1) * rowSize);
    const data = new Float32Array(count * rowSize);
    for (let s = 0; s < count; s++) data.set(row, s * rowSize);
    inputs[name] = { shape: [count, ...array.shape.slice(1)], data };
  }
  for (const l of layouts) {
    const target = inputs[l.input].data;
    for (let s = 0; s < count; s++) {
      for (let j = 0; j < d; j++) {
        if (z[s * d + j] === 1) continue;
        const from = donors[s] * l.rowSize;
        for (let k = j; k < l.rowSize; k += d) target[s * l.rowSize + k] = l.array.data[from + k];
      }
    }
  }
  return { n: count, inputs, labels: { shape: [count, outputs], data: new Float32Array(count * outputs).fill(NaN) } };
}

/**
 * Minimises Σ_s w_s (y_s − b − x_s·β)² + α‖β‖² (intercept b unpenalised, as sklearn's Ridge with sample
 * weights): centre x and y on their weighted means, solve (XᵀWX + αI)β = XᵀWy by Cholesky.
 * r2 = 1 − Σw(y − ŷ)² / Σw(y − ȳ)² (1 when y is constant and fitted exactly, 0 when constant but not).
 */
export function weightedRidge(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  w: ArrayLike<number>,
  rows: number,
  d: number,
  alpha: number,
): { coefficients: number[]; intercept: number; r2: number } {
  let wSum = 0;
  const xMean = new Float64Array(d);
  let yMean = 0;
  for (let s = 0; s < rows; s++) {
    wSum += w[s];
    yMean += w[s] * y[s];
    for (let j = 0; j < d; j++) xMean[j] += w[s] * x[s * d + j];
  }
  if (!(wSum > 0)) throw new RangeError(`weightedRidge: the sample weights sum to ${wSum}`);
  yMean /= wSum;
  for (let j = 0; j < d; j++) xMean[j] /= wSum;

  const a = new Float64Array(d * d);
  const b = new Float64Array(d);
  const xc = new Float64Array(d);
  for (let s = 0; s < rows; s++) {
    for (let j = 0; j < d; j++) xc[j] = x[s * d + j] - xMean[j];
    const yc = y[s] - yMean;
    for (let i = 0; i < d; i++) {
      const wi = w[s] * xc[i];
      b[i] += wi * yc;
      for (let j = 0; j <= i; j++) a[i * d + j] += wi * xc[j];
    }
  }
  for (let i = 0; i < d; i++) a[i * d + i] += alpha;
  const beta = choleskySolve(a, b, d);

  const intercept = yMean - beta.reduce((t, v, j) => t + v * xMean[j], 0);
  let residual = 0;
  let total = 0;
  for (let s = 0; s < rows; s++) {
    let fitted = intercept;
    for (let j = 0; j < d; j++) fitted += beta[j] * x[s * d + j];
    residual += w[s] * (y[s] - fitted) ** 2;
    total += w[s] * (y[s] - yMean) ** 2;
  }
  const r2 = total > 0 ? 1 - residual / total : residual === 0 ? 1 : 0;
  return { coefficients: beta, intercept, r2 };
}

/** Solves A x = b for symmetric positive-definite A (lower triangle used, row-major d × d). */
function choleskySolve(a: Float64Array, b: Float64Array, d: number): number[] {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * d + j];
      for (let k = 0; k < j; k++) sum -= l[i * d + k] * l[j * d + k];
      if (i === j) {
        // A feature that never varies in the samples (α = 0) leaves the system singular.
        if (!(sum > 0)) throw new RangeError(`weightedRidge: the system is not positive definite at feature ${i} (use alpha > 0)`);
        l[i * d + i] = Math.sqrt(sum);
      } else {
        l[i * d + j] = sum / l[j * d + j];
      }
    }
  }
  const t = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i * d + k] * t[k];
    t[i] = sum / l[i * d + i];
  }
  const out = new Array<number>(d).fill(0);
  for (let i = d - 1; i >= 0; i--) {
    let sum = t[i];
    for (let k = i + 1; k < d; k++) sum -= l[k * d + i] * out[k];
    out[i] = sum / l[i * d + i];
  }
  return out;
}
