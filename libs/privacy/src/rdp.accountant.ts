import { PrivacyConfigError } from './privacy.errors';
import { logAdd, logErfc, logFactorial, logSub } from './log-space.util';

/**
 * The Rényi orders TensorFlow Privacy's `compute_dp_sgd_privacy` evaluates:
 * 1.25 … 4.5, then 5 … 63, 64 (added here so the list spans 5..64 as the brief states), 128, 256, 512.
 */
export const STANDARD_ORDERS: readonly number[] = Object.freeze([
  1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5,
  ...Array.from({ length: 60 }, (_, i) => i + 5),
  128, 256, 512,
]);

// TF Privacy's do…until loop for fractional orders has no bound; this one stops a runaway series.
const MAX_FRACTIONAL_TERMS = 100_000;

/** log(A_α) for integer α and 0 < q < 1 (Mironov, Talwar, Zhang 2019, §3.3). */
function computeLogAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const logAlphaFact = logFactorial(alpha);
  for (let i = 0; i <= alpha; i++) {
    const logCoef = logAlphaFact - logFactorial(i) - logFactorial(alpha - i) + i * logQ + (alpha - i) * log1mQ;
    logA = logAdd(logA, logCoef + (i * i - i) / (2 * sigma * sigma));
  }
  return logA;
}

/**
 * log(A_α) for fractional α and 0 < q < 1: the two integrals over (−∞, z0] and [z0, ∞) as binomial series
 * (Mironov, Talwar, Zhang 2019, §3.3), summed until both new terms are below e^−30, as TF Privacy does.
 */
function computeLogAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const sqrt2Sigma = Math.SQRT2 * sigma;
  // binom(α, i) kept as sign and log-magnitude: it alternates in sign once i > α.
  let coefPositive = true;
  let logAbsCoef = 0;
  for (let i = 0; i < MAX_FRACTIONAL_TERMS; i++) {
    if (i > 0) {
      const factor = (alpha - (i - 1)) / i;
      if (factor < 0) coefPositive = !coefPositive;
      logAbsCoef += Math.log(Math.abs(factor));
    }
    const j = alpha - i;
    const logT0 = logAbsCoef + i * logQ + j * log1mQ;
    const logT1 = logAbsCoef + j * logQ + i * log1mQ;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / sqrt2Sigma);
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / sqrt2Sigma);
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (coefPositive) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) return logAdd(logA0, logA1);
  }
  throw new PrivacyConfigError(`RDP series did not converge for q=${q}, noiseMultiplier=${sigma}, order=${alpha}`);
}

/** RDP of one application of the sampled Gaussian mechanism at one order (TF Privacy `_compute_rdp`). */
function computeRdpOneStep(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  // Without sampling the mechanism is the plain Gaussian: RDP(α) = α / (2σ²) (Mironov 2017, Prop. 7).
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (alpha === Infinity) return Infinity;
  if (alpha === 1) throw new PrivacyConfigError(`order 1 is only defined here for q = 0 or q = 1, got q=${q}`);
  const logA = Number.isInteger(alpha) ? computeLogAInt(q, sigma, alpha) : computeLogAFrac(q, sigma, alpha);
  return logA / (alpha - 1);
}

function assertFiniteInRange(name: string, value: number, min: number, max: number, minInclusive = true): void {
  const okMin = minInclusive ? value >= min : value > min;
  if (typeof value !== 'number' || Number.isNaN(value) || !okMin || value > max) {
    throw new PrivacyConfigError(`${name} must be in ${minInclusive ? '[' : '('}${min}, ${max}], got ${value}`);
  }
}

/**
 * Rényi DP of the sampled Gaussian mechanism iterated `steps` times (Mironov 2017; Mironov, Talwar, Zhang
 * 2019), a port of TensorFlow Privacy's `rdp_accountant.compute_rdp`: per order, log(A_α)/(α − 1) times steps.
 * @param q - sampling probability in [0, 1] (Poisson sampling of sites, for client-level DP)
 * @param noiseMultiplier - noise standard deviation divided by the L2 sensitivity (clip norm), ≥ 0
 * @param steps - number of compositions (rounds), ≥ 0
 * @param orders - Rényi orders, each ≥ 1 (order 1 only when q is 0 or 1; may be Infinity); e.g. {@link STANDARD_ORDERS}
 * @returns RDP at each order; Infinity where unbounded
 */
export function computeRdp(q: number, noiseMultiplier: number, steps: number, orders: readonly number[]): number[] {
  assertFiniteInRange('q', q, 0, 1);
  assertFiniteInRange('noiseMultiplier', noiseMultiplier, 0, Number.MAX_VALUE);
  assertFiniteInRange('steps', steps, 0, Number.MAX_SAFE_INTEGER);
  return orders.map((alpha) => {
    assertFiniteInRange('order', alpha, 1, Infinity);
    const perStep = computeRdpOneStep(q, noiseMultiplier, alpha);
    // 0 · ∞ must stay 0 (no steps, no loss), not NaN.
    return steps === 0 ? 0 : perStep * steps;
  });
}

/**
 * Converts RDP to (ε, δ)-DP with the improved conversion TF Privacy uses (Balle et al. 2020 "Hypothesis
 * testing interpretations and Rényi DP", Thm 21; Canonne, Kamath, Steinke 2020, Prop. 12; Asoodeh et al. 2020):
 * ε = min over α of  r(α) + log(1 − 1/α) − log(δ·α)/(α − 1), with ε = 0 when δ² + expm1(−r) ≥ 0 (KL bound)
 * and orders ≤ 1.01 skipped as numerically unstable.
 * @param orders - Rényi orders, each ≥ 1
 * @param rdp - RDP at each order (same length), each ≥ 0
 * @param delta - target δ in (0, 1)
 * @returns the smallest ε and the order that attains it (the first, on ties)
 */
export function rdpToEpsilon(orders: readonly number[], rdp: readonly number[], delta: number): { epsilon: number; optimalOrder: number } {
  if (orders.length !== rdp.length || orders.length === 0) {
    throw new PrivacyConfigError(`orders and rdp must be non-empty and of equal length, got ${orders.length} and ${rdp.length}`);
  }
  assertFiniteInRange('delta', delta, 0, 1, false);
  let best = Infinity;
  let bestOrder = orders[0];
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k];
    const r = rdp[k];
    if (!(a >= 1)) throw new PrivacyConfigError(`Rényi order must be ≥ 1, got ${a}`);
    if (!(r >= 0)) throw new PrivacyConfigError(`RDP must be ≥ 0, got ${r} at order ${a}`);
    let eps: number;
    if (delta * delta + Math.expm1(-r) >= 0) eps = 0;
    else if (a > 1.01) eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    else eps = Infinity;
    // Strict `<` keeps the first minimum, like numpy.argmin.
    if (eps < best) {
      best = eps;
      bestOrder = a;
    }
  }
  return { epsilon: Math.max(0, best), optimalOrder: bestOrder };
}

/** Client-level DP parameters of a study under DP-FedAvg (McMahan et al. 2018). */
export interface DpSettings {
  /** z: noise standard deviation on the sum of clipped updates, in units of `clipNorm`. */
  noiseMultiplier: number;
  /** C: every site's whole update is clipped to L2 norm ≤ C (the sensitivity of the sum). */
  clipNorm: number;
  /** q: probability that a site is sampled in a round (1 = all sites, every round). */
  samplingRate: number;
  /** δ of the (ε, δ) guarantee. */
  delta: number;
  /** Number of rounds the study runs. */
  rounds: number;
  /**
   * `central`: one party adds N(0, (zC)²) to the sum. `split`: each of n sites adds N(0, (zC)²/n) to its own
   * update so the sum carries zC; the guarantee then holds only for the *sum* (secure aggregation), not for
   * an individual update seen by the coordinator.
   */
  noisePlacement: 'central' | 'split';
}

/** Checks every field of {@link DpSettings}; throws `PrivacyConfigError` naming the first bad one. */
export function validateDpSettings(settings: DpSettings, needNoise = true): void {
  if (needNoise) assertFiniteInRange('noiseMultiplier', settings.noiseMultiplier, 0, Number.MAX_VALUE);
  assertFiniteInRange('clipNorm', settings.clipNorm, 0, Number.MAX_VALUE, false);
  assertFiniteInRange('samplingRate', settings.samplingRate, 0, 1, false);
  assertFiniteInRange('delta', settings.delta, 0, 1, false);
  if (!Number.isInteger(settings.rounds) || settings.rounds < 0) {
    throw new PrivacyConfigError(`rounds must be a non-negative integer, got ${settings.rounds}`);
  }
  if (settings.noisePlacement !== 'central' && settings.noisePlacement !== 'split') {
    throw new PrivacyConfigError(`noisePlacement must be 'central' or 'split', got ${String(settings.noisePlacement)}`);
  }
}

/**
 * Client-level privacy of a DP-FedAvg study: RDP accounting of the sampled Gaussian mechanism over
 * rounds at {@link STANDARD_ORDERS}, converted with {@link rdpToEpsilon} at the settings' δ.
 */
export class PrivacyAccountant {
  private readonly perRoundRdp: number[];

  /** @param settings - the study's DP settings; validated (`PrivacyConfigError`) */
  constructor(private readonly settings: DpSettings) {
    validateDpSettings(settings);
    this.perRoundRdp = computeRdp(settings.samplingRate, settings.noiseMultiplier, 1, STANDARD_ORDERS);
  }

  /** RDP after `rounds` rounds, one value per entry of {@link STANDARD_ORDERS}. */
  rdpAfter(rounds: number): number[] {
    if (!Number.isInteger(rounds) || rounds < 0) throw new PrivacyConfigError(`rounds must be a non-negative integer, got ${rounds}`);
    return this.perRoundRdp.map((r) => (rounds === 0 ? 0 : r * rounds));
  }

  /** ε after `rounds` rounds (composition in RDP space, then one conversion). */
  epsilonAfter(rounds: number): number {
    return rdpToEpsilon(STANDARD_ORDERS, this.rdpAfter(rounds), this.settings.delta).epsilon;
  }

  /** ε of a single round. */
  perRoundEpsilon(): number {
    return this.epsilonAfter(1);
  }

  /** ε after all `settings.rounds` rounds. */
  totalEpsilon(): number {
    return this.epsilonAfter(this.settings.rounds);
  }
}

/**
 * The smallest noise multiplier z whose total ε over `settings.rounds` rounds is ≤ `target`, by doubling
 * then bisection (as TF Privacy's `compute_noise` and Opacus's `get_noise_multiplier` do), to a relative
 * precision of 1e-9. The returned z always satisfies the target (it is the upper end of the bracket).
 * @param target - the ε budget, > 0
 * @param settings - every DP setting except the noise multiplier
 */
export function noiseForEpsilon(target: number, settings: Omit<DpSettings, 'noiseMultiplier'>): number {
  assertFiniteInRange('target', target, 0, Number.MAX_VALUE, false);
  validateDpSettings({ ...settings, noiseMultiplier: 1 });
  const epsilonFor = (z: number): number => new PrivacyAccountant({ ...settings, noiseMultiplier: z }).totalEpsilon();
  let lo = 0;
  let hi = 1;
  while (epsilonFor(hi) > target) {
    lo = hi;
    hi *= 2;
    if (hi > 1e7) throw new PrivacyConfigError(`no noise multiplier up to 1e7 reaches ε ≤ ${target}`);
  }
  while (hi - lo > 1e-9 * hi) {
    const mid = (lo + hi) / 2;
    if (epsilonFor(mid) <= target) hi = mid;
    else lo = mid;
  }
  return hi;
}
