import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fedAvg } from '@medfed/aggregation';
import { quantizationErrorBound } from './quantize.util';
import { SecAggServer } from './secagg.server';
import type { SecAggParams } from './secagg.types';
import { DropPoint, runSecAggRound, SecAggTranscript } from './testing';

const DATA = resolve(__dirname, '../../../data/fed-heart-disease/flamby_features_unnormalized_seed43.csv');
const FEATURES = ['age', 'sex', 'trestbps', 'chol', 'fbs', 'thalach', 'exang', 'oldpeak', 'cp_2', 'cp_3', 'cp_4', 'restecg_1', 'restecg_2'];
const SITES = ['cleveland-a', 'cleveland-b', 'hungarian', 'switzerland', 'va'];

type SiteInput = { vector: Float32Array; weight: number };

/**
 * Real Fed-Heart-Disease updates: each site's training rows (FLamby split, Cleveland halved so there
 * are five sites), standardised on the site's own statistics, and the delta of 5 full-batch gradient
 * steps (lr 0.5) of logistic regression from zero weights: 13 coefficients + bias = 14 floats.
 * Weight = the site's number of training rows.
 */
function heartUpdates(): Map<string, SiteInput> {
  const [header, ...lines] = readFileSync(DATA, 'utf8').trim().split('\n');
  const cols = header.split(',');
  const at = (name: string) => cols.indexOf(name);
  const rows = lines.map((line) => line.split(',')).filter((r) => r[at('set')] === 'train');
  const byCenter = [0, 1, 2, 3].map((c) => rows.filter((r) => Number(r[at('center_id')]) === c));
  const half = Math.ceil(byCenter[0].length / 2);
  const groups = [byCenter[0].slice(0, half), byCenter[0].slice(half), byCenter[1], byCenter[2], byCenter[3]];
  return new Map(
    groups.map((group, s) => {
      const x = group.map((r) => FEATURES.map((f) => Number(r[at(f)])));
      const y = group.map((r) => Number(r[at('label')]));
      const d = FEATURES.length;
      for (let j = 0; j < d; j++) {
        const mean = x.reduce((a, r) => a + r[j], 0) / x.length;
        const sd = Math.sqrt(x.reduce((a, r) => a + (r[j] - mean) ** 2, 0) / x.length) || 1;
        for (const r of x) r[j] = (r[j] - mean) / sd;
      }
      const w = new Float64Array(d + 1);
      for (let step = 0; step < 5; step++) {
        const grad = new Float64Array(d + 1);
        x.forEach((r, i) => {
          const z = r.reduce((a, v, j) => a + v * w[j], w[d]);
          const err = 1 / (1 + Math.exp(-z)) - y[i];
          r.forEach((v, j) => (grad[j] += (err * v) / x.length));
          grad[d] += err / x.length;
        });
        for (let j = 0; j <= d; j++) w[j] -= 0.5 * grad[j];
      }
      return [SITES[s], { vector: Float32Array.from(w), weight: group.length }];
    }),
  );
}

/** Deterministic uniform floats in [−scale, scale) (mulberry32). */
function uniformVector(seed: number, n: number, scale: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1) * scale;
  });
}

function randomUpdates(n: number): Map<string, SiteInput> {
  return new Map(SITES.map((id, s) => [id, { vector: uniformVector(77 + s, n, 0.05), weight: [120, 80, 200, 31, 95][s] }]));
}

/** The plain weighted sum over `sites`, in float64: what FedAvg without masking would compute before dividing. */
function plainWeightedSum(inputs: Map<string, SiteInput>, sites: string[]): { sum: Float64Array; weightSum: number } {
  const length = (inputs.get(sites[0]) as SiteInput).vector.length;
  const sum = new Float64Array(length);
  let weightSum = 0;
  for (const id of sites) {
    const { vector, weight } = inputs.get(id) as SiteInput;
    weightSum += weight;
    for (let i = 0; i < length; i++) sum[i] += vector[i] * weight;
  }
  return { sum, weightSum };
}

/** Every typed array reachable from `root` through own properties, arrays and maps. */
function reachableTypedArrays(root: unknown, seen = new Set<unknown>(), out: ArrayBufferView[] = []): ArrayBufferView[] {
  if (root === null || typeof root !== 'object' || seen.has(root)) return out;
  seen.add(root);
  if (ArrayBuffer.isView(root)) {
    out.push(root);
    return out;
  }
  const children = root instanceof Map ? [...root.keys(), ...root.values()] : root instanceof Set ? [...root] : Object.values(root);
  for (const child of children) reachableTypedArrays(child, seen, out);
  return out;
}

describe.each([
  ['Fed-Heart-Disease updates (14 floats)', 14, heartUpdates, 2],
  ['random updates (100k floats)', 100_000, () => randomUpdates(100_000), 0.06],
])('SecAgg, 5 sites, %s', (_, vectorLength, makeInputs, clipRange) => {
  const inputs = makeInputs();
  const params: SecAggParams = { studyId: 'study-heart', round: 3, siteIds: SITES, threshold: 3, vectorLength, clipRange, maxWeight: 256 };

  it('inputs are within the clip range, so clipping does not change the reference', () => {
    for (const { vector } of inputs.values()) expect(vector.every((v) => Math.abs(v) < clipRange)).toBe(true);
  });

  it.each<[string, DropPoint]>([
    ['drops after sharing its keys (no masked input)', 'afterShares'],
    ['drops after sending its masked input (no unmasking shares)', 'afterMasked'],
  ])('one site %s: the sum equals the plain weighted sum of the survivors within the quantisation bound', (__, dropPoint) => {
    // Arrange
    const dropped = 'hungarian';
    const survivors = dropPoint === 'afterShares' ? SITES.filter((s) => s !== dropped) : SITES;
    const reference = plainWeightedSum(inputs, survivors);
    // Act
    const result = runSecAggRound(params, inputs, { drops: new Map([[dropped, dropPoint]]) });
    // Assert
    expect(result.survivors).toEqual(survivors);
    const bound = quantizationErrorBound(clipRange * 256, SITES.length, 32, survivors.length);
    let worst = 0;
    for (let i = 0; i < vectorLength; i++) {
      // float32 output adds at most half an ulp of the value.
      worst = Math.max(worst, Math.abs(result.sum[i] - reference.sum[i]) - Math.abs(reference.sum[i]) * 2 ** -24);
    }
    expect(worst).toBeLessThanOrEqual(bound);
    expect(Math.abs(result.weightSum - reference.weightSum)).toBeLessThanOrEqual(quantizationErrorBound(256, SITES.length, 32, survivors.length));
  });

  it('sum / weightSum matches @medfed/aggregation fedAvg over the survivors (from a zero model)', () => {
    // Arrange
    const survivors = SITES.filter((s) => s !== 'va');
    const expected = fedAvg(
      [new Float32Array(vectorLength)],
      survivors.map((id) => ({ delta: [(inputs.get(id) as SiteInput).vector], numExamples: (inputs.get(id) as SiteInput).weight })),
    )[0];
    // Act
    const result = runSecAggRound(params, inputs, { drops: new Map([['va', 'afterShares']]) });
    // Assert
    const weightSum = survivors.reduce((a, id) => a + (inputs.get(id) as SiteInput).weight, 0);
    const tolerance = (2 * quantizationErrorBound(clipRange * 256, SITES.length, 32, 4)) / weightSum + 1e-6 * clipRange;
    for (let i = 0; i < vectorLength; i++) expect(Math.abs(result.sum[i] / result.weightSum - expected[i])).toBeLessThanOrEqual(tolerance);
  });

  it.each<[string, DropPoint]>([
    ['after sharing keys (2 masked inputs)', 'afterShares'],
    ['after masking (2 unmasking responses)', 'afterMasked'],
  ])('three sites drop %s with t = 3: BELOW_THRESHOLD, and the server keeps no masked or unmasked vector', (__, dropPoint) => {
    // Arrange
    const server = new SecAggServer(params);
    const drops = new Map<string, DropPoint>(['cleveland-a', 'switzerland', 'va'].map((id) => [id, dropPoint]));
    const transcript: SecAggTranscript = { advertise: [], shares: new Map(), masked: [], unmasking: [] };
    // Act / Assert
    expect(() => runSecAggRound(params, inputs, { drops, server, transcript })).toThrow(expect.objectContaining({ code: 'BELOW_THRESHOLD' }));
    expect(server.phase).toBe('aborted');
    expect(transcript.masked.length).toBeGreaterThan(0);
    const held = reachableTypedArrays(server);
    expect(held.filter((view) => view.byteLength >= 4 * vectorLength)).toEqual([]);
    expect(held.every((view) => view.byteLength <= 32)).toBe(true);
    expect(() => server.finish()).toThrow(expect.objectContaining({ code: 'BAD_STATE' }));
  });
});

describe('SecAgg edge cases', () => {
  const inputs = new Map(SITES.map((id, s) => [id, { vector: Float32Array.from({ length: 6 }, (_, i) => (i - 2.5) * (s + 1)), weight: 10 * (s + 1) }]));

  it('clips to ±clipRange before weighting: sum = Σ w·clip(x)', () => {
    const params: SecAggParams = { studyId: 's', round: 1, siteIds: SITES, threshold: 3, vectorLength: 6, clipRange: 3, maxWeight: 64 };
    const result = runSecAggRound(params, inputs);
    // Hand-computed: site s (1-based k) has x_i = (i − 2.5)·k clipped to ±3, weight 10k.
    const expected = [0, 1, 2, 3, 4, 5].map((i) => [1, 2, 3, 4, 5].reduce((a, k) => a + 10 * k * Math.max(-3, Math.min(3, (i - 2.5) * k)), 0));
    expect(result.sum.length).toBe(6);
    result.sum.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 3));
    expect(result.weightSum).toBeCloseTo(150, 4);
  });

  it('works in the ring Z_2^16 with a site that dropped right after advertising', () => {
    const params: SecAggParams = { studyId: 's', round: 1, siteIds: SITES, threshold: 3, vectorLength: 6, clipRange: 15, maxWeight: 64, bits: 16 };
    const result = runSecAggRound(params, inputs, { drops: new Map([['va', 'afterAdvertise']]) });
    const reference = plainWeightedSum(inputs, SITES.slice(0, 4));
    const bound = quantizationErrorBound(15 * 64, 5, 16, 4);
    result.sum.forEach((v, i) => expect(Math.abs(v - reference.sum[i])).toBeLessThanOrEqual(bound));
    expect(result.survivors).toEqual(SITES.slice(0, 4));
  });
});
