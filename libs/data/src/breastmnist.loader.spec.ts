import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { BREASTMNIST_FILE, ImageSplit, loadBreastMnist, skewedLabelShares, splitImagesAmongSites } from './breastmnist.loader';
import { DataSchemaError } from './data-schema.error';

const DATA_DIR = resolve(__dirname, '../../../data/breastmnist');

const count = (y: Float32Array, label: number) => y.reduce((c, v) => c + (v === label ? 1 : 0), 0);
/** Each image as a string key, to check that a split hands out every training example exactly once. */
const keys = (s: ImageSplit) => Array.from({ length: s.n }, (_, i) => `${s.y[i]}|${s.x.subarray(i * 784, (i + 1) * 784).join(',')}`);

describe('loadBreastMnist (real MedMNIST file)', () => {
  const data = loadBreastMnist(DATA_DIR);

  // PROVENANCE.md: 546/78/156 images; malignant (0) / benign (1) = 147/399, 21/57, 42/114.
  it.each([
    ['train', 546, 147, 399],
    ['val', 78, 21, 57],
    ['test', 156, 42, 114],
  ] as const)('%s has %i images, %i malignant and %i benign', (split, n, zeros, ones) => {
    const s = data[split];
    expect([s.n, s.height, s.width]).toEqual([n, 28, 28]);
    expect(s.x.length).toBe(n * 784);
    expect([count(s.y, 0), count(s.y, 1)]).toEqual([zeros, ones]);
  });

  it('matches NumPy on pixel values, pixel sums and the first labels', () => {
    // Reference values printed by numpy 1.24 (np.load) from the same file, independently of this loader.
    const row = Array.from(data.train.x.subarray(14 * 28, 14 * 28 + 8)).map((v) => Math.round(v * 255));
    expect(row).toEqual([123, 134, 139, 145, 144, 118, 102, 91]);
    const lastRow = Array.from(data.test.x.subarray(155 * 784 + 27 * 28 + 20, 155 * 784 + 28 * 28)).map((v) => Math.round(v * 255));
    expect(lastRow).toEqual([16, 15, 16, 16, 16, 17, 18, 19]);
    const sum255 = (x: Float32Array) => x.reduce((s, v) => s + Math.round(v * 255), 0);
    expect([sum255(data.train.x), sum255(data.val.x), sum255(data.test.x)]).toEqual([35757482, 5282574, 10478773]);
    expect(Array.from(data.val.y.subarray(0, 10))).toEqual([0, 1, 1, 0, 1, 1, 1, 1, 1, 1]);
  });

  it('scales pixels into [0, 1] and uses the full range', () => {
    let min = Infinity;
    let max = -Infinity;
    for (const v of data.train.x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect([min, max]).toEqual([0, 1]);
  });
});

describe('splitImagesAmongSites', () => {
  const { train } = loadBreastMnist(DATA_DIR);

  it.each(['even', 'skewed'] as const)('%s: every training example goes to exactly one site', (mode) => {
    // Act
    const sites = splitImagesAmongSites(train, 3, mode, 7);

    // Assert
    expect(sites.map((s) => s.n).reduce((a, b) => a + b, 0)).toBe(546);
    expect(sites.flatMap(keys).sort()).toEqual(keys(train).sort());
  });

  it('even: site sizes and label counts differ by at most one (147 = 49×3, 399 = 133×3)', () => {
    const sites = splitImagesAmongSites(train, 3, 'even', 1);
    expect(sites.map((s) => [count(s.y, 0), count(s.y, 1)])).toEqual([
      [49, 133],
      [49, 133],
      [49, 133],
    ]);
  });

  it('skewed: label 0 goes 1/6, 2/6, 3/6 and label 1 3/6, 2/6, 1/6 (largest remainder)', () => {
    // Arrange: 147 × (1,2,3)/6 = 24.5, 49, 73.5 → 25, 49, 73; 399 × (3,2,1)/6 = 199.5, 133, 66.5 → 200, 133, 66.
    expect(skewedLabelShares(3)).toEqual({ label0: [1 / 6, 2 / 6, 3 / 6], label1: [3 / 6, 2 / 6, 1 / 6] });

    // Act
    const sites = splitImagesAmongSites(train, 3, 'skewed', 1);

    // Assert
    expect(sites.map((s) => [count(s.y, 0), count(s.y, 1)])).toEqual([
      [25, 200],
      [49, 133],
      [73, 66],
    ]);
  });

  it('is reproducible for a seed and differs between seeds', () => {
    const a = splitImagesAmongSites(train, 3, 'even', 42);
    const b = splitImagesAmongSites(train, 3, 'even', 42);
    const c = splitImagesAmongSites(train, 3, 'even', 43);
    expect(keys(a[0])).toEqual(keys(b[0]));
    expect(keys(a[0])).not.toEqual(keys(c[0]));
  });

  it('refuses a number of sites it cannot honour', () => {
    expect(() => splitImagesAmongSites(train, 0, 'even', 1)).toThrow(RangeError);
    expect(() => splitImagesAmongSites(train, 2.5, 'skewed', 1)).toThrow(RangeError);
  });
});

describe('loadBreastMnist on a damaged archive', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'breastmnist-'));
    copyFileSync(join(DATA_DIR, BREASTMNIST_FILE), join(dir, BREASTMNIST_FILE));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const corruptions: Array<[string, (b: Buffer) => Buffer]> = [
    ['truncated', (b) => b.subarray(0, Math.floor(b.length / 2))],
    ['wrong ZIP magic everywhere', (b) => Buffer.from(b.toString('latin1').replace(/PK/g, 'QK'), 'latin1')],
    ['a damaged deflate stream', (b) => { const c = Buffer.from(b); for (let i = 1000; i < 1100; i++) c[i] ^= 0x5a; return c; }],
  ];
  it.each(corruptions)('%s → DataSchemaError naming the file, with no pixel value', (_label, corrupt) => {
    // Arrange
    const path = join(dir, BREASTMNIST_FILE);
    writeFileSync(path, corrupt(readFileSync(path)));

    // Act
    let error: unknown;
    try {
      loadBreastMnist(dir);
    } catch (err) {
      error = err;
    }

    // Assert: the message names the file and stays structural (no run of numbers that could be pixel data).
    expect(error).toBeInstanceOf(DataSchemaError);
    expect((error as Error).message).toMatch(/^breastmnist\.npz: /);
    expect((error as Error).message).not.toMatch(/\d+\s*,\s*\d+\s*,\s*\d+/);
  });
});
