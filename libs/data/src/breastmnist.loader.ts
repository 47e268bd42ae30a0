import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import { DataSchemaError } from './data-schema.error';
import { NpyArray, parseNpy } from './npy.reader';
import { apportion, mulberry32, shuffleInPlace } from './seeded-shuffle.util';
import { readZipEntries } from './zip.reader';

/** A set of grey-scale images with binary labels. */
export interface ImageSplit {
  /** n×height×width pixels, row-major, scaled to [0, 1]. */
  x: Float32Array;
  /** n labels (BreastMNIST: 0 = malignant, 1 = normal/benign). */
  y: Float32Array;
  n: number;
  height: number;
  width: number;
}

/** BreastMNIST's official train/validation/test split. */
export interface BreastMnistSplits {
  train: ImageSplit;
  val: ImageSplit;
  test: ImageSplit;
}

/** The archive's file name inside the data folder. */
export const BREASTMNIST_FILE = 'breastmnist.npz';
const SIDE = 28;

/**
 * Loads BreastMNIST (MedMNIST v2, Yang et al., Sci. Data 10:41, 2023) from `<dir>/breastmnist.npz`: the
 * `{train,val,test}_{images,labels}` arrays, images 28×28 uint8 scaled to [0, 1] by /255, labels 0/1.
 * Labels may be stored as (N,) or (N, 1) (the official file uses the latter).
 * @param dir folder holding `breastmnist.npz` (see its PROVENANCE.md)
 * @throws DataSchemaError naming the file and the array if the archive is damaged, an array is missing,
 *   has the wrong shape or dtype, or a label is not 0/1 (with a count, never a value)
 */
export function loadBreastMnist(dir: string): BreastMnistSplits {
  const path = join(dir, BREASTMNIST_FILE);
  const file = basename(path);
  const entries = readZipEntries(readFileSync(path), file);
  const array = (name: string): NpyArray => {
    const bytes = entries.get(`${name}.npy`);
    if (!bytes) throw new DataSchemaError(`${file}: array ${name} is missing`);
    return parseNpy(bytes, `${file}:${name}.npy`);
  };
  const load = (split: 'train' | 'val' | 'test'): ImageSplit => {
    const images = array(`${split}_images`);
    const labels = array(`${split}_labels`);
    const [n, height, width] = images.shape;
    if (images.shape.length !== 3 || height !== SIDE || width !== SIDE || images.dtype !== 'uint8') {
      throw new DataSchemaError(`${file}: ${split}_images must be uint8 (N, 28, 28), found ${images.dtype} (${images.shape.join(', ')})`);
    }
    const flatLabels = labels.shape.length === 1 || (labels.shape.length === 2 && labels.shape[1] === 1);
    if (!flatLabels || labels.shape[0] !== n) {
      throw new DataSchemaError(`${file}: ${split}_labels must have shape (${n},) or (${n}, 1), found (${labels.shape.join(', ')})`);
    }
    const bad = labels.data.reduce((c, v) => c + (v === 0 || v === 1 ? 0 : 1), 0);
    if (bad > 0) throw new DataSchemaError(`${file}: ${split}_labels has ${bad} label(s) other than 0/1`);
    const x = new Float32Array(images.data.length);
    for (let i = 0; i < x.length; i++) x[i] = images.data[i] / 255;
    return { x, y: Float32Array.from(labels.data), n, height, width };
  };
  return { train: load('train'), val: load('val'), test: load('test') };
}

/**
 * The documented label mix of the 'skewed' split: site i (0-based) of S receives a share (i+1)/ΣS of the
 * label-0 examples and (S−i)/ΣS of the label-1 examples, ΣS = S(S+1)/2. For 3 sites: label 0 is split
 * 1/6, 2/6, 3/6 and label 1 3/6, 2/6, 1/6; on BreastMNIST's training set (147 malignant, 399 benign) that
 * gives sites with about 11 %, 27 % and 53 % malignant images.
 * @param sites number of sites (≥ 1)
 * @returns per-site shares of each label; each array sums to 1
 */
export function skewedLabelShares(sites: number): { label0: number[]; label1: number[] } {
  const total = (sites * (sites + 1)) / 2;
  const idx = Array.from({ length: sites }, (_, i) => i);
  return { label0: idx.map((i) => (i + 1) / total), label1: idx.map((i) => (sites - i) / total) };
}

/**
 * Divides a set of images among `sites` sites; every example goes to exactly one site.
 * - `'even'`: stratified round-robin — each label's examples are shuffled (seeded) and dealt to the sites
 *   in turn, the turn carrying on from one label to the next, so site sizes and label counts differ by at most 1.
 * - `'skewed'`: each label's shuffled examples are divided in the proportions of {@link skewedLabelShares}
 *   (largest-remainder rounding), so the label mix differs from site to site. Labels must be 0/1.
 * Each site's examples are then shuffled (seeded), so the labels are interleaved.
 * @param split the images to divide (normally the training set)
 * @param sites number of sites, 1 ≤ sites ≤ n
 * @param mode 'even' or 'skewed'
 * @param seed seed of the shuffles; the same seed gives the same split
 * @throws RangeError for a bad number of sites or a non-binary label in skewed mode
 */
export function splitImagesAmongSites(split: ImageSplit, sites: number, mode: 'even' | 'skewed', seed: number): ImageSplit[] {
  if (!Number.isInteger(sites) || sites < 1 || sites > split.n) {
    throw new RangeError(`sites must be an integer in [1, ${split.n}], got ${sites}`);
  }
  const random = mulberry32(seed);
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < split.n; i++) {
    const list = byLabel.get(split.y[i]) ?? [];
    list.push(i);
    byLabel.set(split.y[i], list);
  }
  const labels = [...byLabel.keys()].sort((a, b) => a - b);
  const assigned: number[][] = Array.from({ length: sites }, () => []);

  if (mode === 'even') {
    let turn = 0;
    for (const label of labels) {
      for (const i of shuffleInPlace(byLabel.get(label) ?? [], random)) assigned[turn++ % sites].push(i);
    }
  } else {
    if (labels.some((l) => l !== 0 && l !== 1)) throw new RangeError(`skewed split needs 0/1 labels, found ${labels.length} distinct labels`);
    const shares = skewedLabelShares(sites);
    for (const label of labels) {
      const members = shuffleInPlace(byLabel.get(label) ?? [], random);
      const counts = apportion(members.length, label === 0 ? shares.label0 : shares.label1);
      let start = 0;
      counts.forEach((count, s) => {
        assigned[s].push(...members.slice(start, start + count));
        start += count;
      });
    }
  }
  return assigned.map((indices) => subsetImages(split, shuffleInPlace(indices, random)));
}

/** The examples of `split` at `indices`, in that order. */
function subsetImages(split: ImageSplit, indices: readonly number[]): ImageSplit {
  const pixels = split.height * split.width;
  const x = new Float32Array(indices.length * pixels);
  const y = new Float32Array(indices.length);
  indices.forEach((src, dst) => {
    x.set(split.x.subarray(src * pixels, (src + 1) * pixels), dst * pixels);
    y[dst] = split.y[src];
  });
  return { x, y, n: indices.length, height: split.height, width: split.width };
}
