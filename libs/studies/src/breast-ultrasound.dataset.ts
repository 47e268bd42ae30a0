import { DataSchemaError, ImageSplit, loadBreastMnist, splitImagesAmongSites } from '@medfed/data';
import type { ExampleSet } from '@medfed/data';

import type { DatasetDefinition, LoadedSite, SiteSource } from './study-definition';

/** The three sites BreastMNIST is divided among. */
export const BREASTMNIST_SITES = ['site-1', 'site-2', 'site-3'] as const;
/** How BreastMNIST is divided among the sites (see `splitImagesAmongSites`): stratified, or with site-specific label mixes. */
export const BREASTMNIST_PARTITIONS = ['even', 'skewed'] as const;
/** One of {@link BREASTMNIST_PARTITIONS}. */
export type BreastMnistPartition = (typeof BREASTMNIST_PARTITIONS)[number];

/** Default seed of the division among sites (SiteSource.seed); every site must use the same one. */
const DEFAULT_SEED = 42;

/**
 * MedMNIST's own transform, Normalize(mean 0.5, std 0.5) after /255 scaling: pixels in [0, 1] become [−1, 1].
 * A fixed scaling, so no federated statistics round is needed and no site sends anything about its images.
 */
function normalisePixel(value: number): number {
  return (value - 0.5) / 0.5;
}

/** An ImageSplit as the cnn family's ExampleSet: input `x` [n, 28, 28, 1], labels [n, 1]. */
export function examplesFromImages(split: ImageSplit): ExampleSet {
  return {
    n: split.n,
    inputs: { x: { shape: [split.n, split.height, split.width, 1], data: split.x.map(normalisePixel) } },
    labels: { shape: [split.n, 1], data: Float32Array.from(split.y) },
  };
}

/**
 * BreastMNIST (MedMNIST v2, 28×28 breast ultrasound; label 1 = normal/benign, 0 = malignant) divided among three
 * sites. The official train, validation and test sets are each divided the same way (`even`: stratified; `skewed`:
 * label mixes differing by site, see `skewedLabelShares`) with the same seed, so every site holds its own part of
 * each, and the parts of all sites together are exactly the official sets. Pixels are scaled by /255 and MedMNIST's
 * Normalize(0.5, 0.5); `prepare` therefore ignores federated statistics and `sums` is absent.
 */
export const breastMnistDataset: DatasetDefinition = {
  dataset: 'breastmnist',
  sites: BREASTMNIST_SITES,
  outputNames: ['benign-or-normal'],
  // One image input: per-pixel importance is the cnn family's saliency map, not a per-feature report.
  featureNames: ['image'],
  load(source: SiteSource): LoadedSite {
    const index = (BREASTMNIST_SITES as readonly string[]).indexOf(source.site);
    if (index < 0) {
      throw new DataSchemaError(`breastmnist has no site ${JSON.stringify(source.site)}; the sites are ${BREASTMNIST_SITES.join(', ')}`);
    }
    const partition = source.partition ?? 'even';
    if (!(BREASTMNIST_PARTITIONS as readonly string[]).includes(partition)) {
      throw new DataSchemaError(`breastmnist has no partition ${JSON.stringify(partition)}; use one of ${BREASTMNIST_PARTITIONS.join(', ')}`);
    }
    const mode = partition as BreastMnistPartition;
    const seed = source.seed ?? DEFAULT_SEED;
    const splits = loadBreastMnist(source.path);
    // Distinct seeds per split so the three divisions are independent draws; the same on every site.
    const train = splitImagesAmongSites(splits.train, BREASTMNIST_SITES.length, mode, seed)[index];
    const validation = splitImagesAmongSites(splits.val, BREASTMNIST_SITES.length, mode, seed + 1)[index];
    const test = splitImagesAmongSites(splits.test, BREASTMNIST_SITES.length, mode, seed + 2)[index];
    return {
      sizes: { train: train.n, validation: validation.n, test: test.n },
      prepare: () => ({ train: examplesFromImages(train), validation: examplesFromImages(validation), test: examplesFromImages(test) }),
    };
  },
};
