/**
 * Log-space arithmetic and log(erfc) in float64, as needed by the RDP accountant
 * (TensorFlow Privacy `rdp_accountant.py`: `_log_add`, `_log_sub`, `_log_erfc`).
 */

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
// Largest argument for which Math.exp/expm1 stay finite; Python's math.expm1 raises OverflowError past it.
const MAX_EXP_ARG = 709.782712893384;

/** log(exp(logx) + exp(logy)), exact for -Infinity (zero) operands. */
export function logAdd(logx: number, logy: number): number {
  const a = Math.min(logx, logy);
  const b = Math.max(logx, logy);
  if (a === -Infinity) return b;
  return Math.log1p(Math.exp(a - b)) + b;
}

/** log(exp(logx) - exp(logy)); the result must be non-negative (logx ≥ logy), else `RangeError`. */
export function logSub(logx: number, logy: number): number {
  if (logx < logy) throw new RangeError(`log-space subtraction would be negative (${logx} < ${logy})`);
  if (logy === -Infinity) return logx;
  if (logx === logy) return -Infinity;
  const d = logx - logy;
  // Same fallback as TF Privacy's OverflowError branch: the subtrahend is negligible.
  if (d > MAX_EXP_ARG) return logx;
  return Math.log(Math.expm1(d)) + logy;
}

/**
 * erf(x) for |x| < 2 by the all-positive series erf(x) = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1))
 * (Abramowitz & Stegun 7.1.6): no cancellation, so relative error stays near machine epsilon.
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 500; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

/**
 * log(√π · e^{x²} · erfc(x)) for x ≥ 2, by the continued fraction
 * erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) (A&S 7.1.14), evaluated with
 * the modified Lentz method. Kept in log form so erfc(40) (≈ 1e−697) does not underflow.
 */
function logScaledErfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 10_000; k++) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -Math.log(f);
}

/** log(erfc(x)) accurate to about 1e-13 relative over the whole real line, including far tails. */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return -Infinity;
  if (x === -Infinity) return Math.LN2;
  if (x >= 2) return -x * x - LOG_SQRT_PI + logScaledErfcContinuedFraction(x);
  if (x > -2) return Math.log1p(-erfSeries(x));
  // erfc(x) = 2 − erfc(−x), with erfc(−x) < 4.7e−3 here.
  return Math.log(2 - Math.exp(-x * x - LOG_SQRT_PI + logScaledErfcContinuedFraction(-x)));
}

/** log Γ(n + 1) = log n! for a non-negative integer n, from a cached running sum. */
const logFactorials: number[] = [0];
export function logFactorial(n: number): number {
  for (let k = logFactorials.length; k <= n; k++) logFactorials.push(logFactorials[k - 1] + Math.log(k));
  return logFactorials[n];
}
