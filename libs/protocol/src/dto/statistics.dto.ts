import 'reflect-metadata';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsDefined, IsIn, IsNumber, Min } from 'class-validator';
import { TaskScopeDto } from './task-scope.dto';
import { StudyManifestDto } from './study-manifest.dto';
import { StudyManifest } from '../study-manifest';
import { DATASETS, DatasetName, FeatureStatistics } from '../study';
import { IsIntInRange, ObjectRule, Required, ValidateWhenMetricsExpected } from './validators';
import { NestedObject } from './study-spec.dto';

/** Most features in federated statistics. */
export const MAX_STATISTICS_FEATURES = 4096;

/**
 * coordinator -> node, sealed: before round 1, send the per-feature sums of your training split for
 * federated normalisation. Header round is 1 (the round the statistics prepare), model version 0.
 */
export interface StatisticsTaskBody {
  studyId: string;
  round: number;
  modelVersion: number;
  dataset: DatasetName;
  /** The study's manifest: the node answers only if it approved exactly this. */
  manifest: StudyManifest;
  /** Epoch ms after which the coordinator no longer accepts an answer. */
  deadlineAt: number;
}

/**
 * node -> coordinator, sealed: per-feature count of observed values, Σx and Σx² over the site's training
 * split. When the split is smaller than the node's minimum cohort it sends `suppressed: true` and only
 * `numExamples`.
 */
export interface StatisticsResultBody {
  studyId: string;
  round: number;
  modelVersion: number;
  suppressed: boolean;
  numExamples: number;
  count?: number[];
  sum?: number[];
  sumSquares?: number[];
}

/** Validates a {@link StatisticsTaskBody}. */
export class StatisticsTaskBodyDto extends TaskScopeDto implements StatisticsTaskBody {
  @Required()
  @IsIn(DATASETS)
  dataset!: DatasetName;

  @NestedObject(() => StudyManifestDto)
  manifest!: StudyManifestDto;

  @Required()
  @IsIntInRange(0)
  deadlineAt!: number;
}

function sumsArray(): PropertyDecorator[] {
  return [
    ValidateWhenMetricsExpected(),
    ObjectRule('absentWhenSuppressed', '$property must be absent when suppressed is true', (_v, o) => o['suppressed'] !== true),
    IsDefined({ message: '$property is required when suppressed is false' }),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(MAX_STATISTICS_FEATURES),
    IsNumber({ allowNaN: false, allowInfinity: false }, { each: true }),
    ObjectRule('sameLengthAsCount', '$property must have one entry per feature, like count', (v, o) => !Array.isArray(v) || !Array.isArray(o['count']) || v.length === (o['count'] as unknown[]).length),
  ];
}

function apply(decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((d) => d(target, key));
}

/** Validates a {@link StatisticsResultBody}: finite sums, integer counts, Σx² ≥ 0, one entry per feature. */
export class StatisticsResultBodyDto extends TaskScopeDto implements StatisticsResultBody {
  @Required()
  @IsBoolean()
  suppressed!: boolean;

  @Required()
  @IsIntInRange(0)
  numExamples!: number;

  @apply(sumsArray())
  // A sequence has many observations of a variable per patient, so a count can exceed numExamples.
  @ObjectRule('countsAreCounts', '$property must be non-negative integers', (v) => !Array.isArray(v) || v.every((c) => Number.isInteger(c) && c >= 0))
  count?: number[];

  @apply(sumsArray())
  sum?: number[];

  @apply(sumsArray())
  @Min(0, { each: true })
  sumSquares?: number[];
}

/**
 * Combines the sites' sums into global statistics: mean = Σsum/Σcount, std = √(Σsq/Σcount − mean²)
 * (population), 1 where a feature has no observation or no spread, so normalising never divides by 0.
 */
export function combineFeatureSums(sites: readonly { count: number[]; sum: number[]; sumSquares: number[] }[]): FeatureStatistics {
  if (sites.length === 0) throw new RangeError('combineFeatureSums needs at least one site');
  const features = sites[0].count.length;
  const bad = sites.findIndex((s) => s.count.length !== features || s.sum.length !== features || s.sumSquares.length !== features);
  if (bad >= 0) throw new RangeError(`combineFeatureSums: site ${bad} does not have ${features} features`);
  const count = new Array<number>(features).fill(0);
  const mean = new Array<number>(features).fill(0);
  const std = new Array<number>(features).fill(1);
  for (let f = 0; f < features; f++) {
    let n = 0;
    let s = 0;
    let sq = 0;
    for (const site of sites) {
      n += site.count[f];
      s += site.sum[f];
      sq += site.sumSquares[f];
    }
    count[f] = n;
    if (n === 0) continue;
    mean[f] = s / n;
    const variance = sq / n - mean[f] * mean[f];
    // Rounding can make a constant feature's variance slightly negative or tiny: treat it as no spread.
    std[f] = variance > 1e-12 ? Math.sqrt(variance) : 1;
  }
  return { count, mean, std };
}

/** Validates {@link FeatureStatistics} carried by train and evaluate tasks. */
export class FeatureStatisticsDto implements FeatureStatistics {
  @Required()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_STATISTICS_FEATURES)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  @Min(0, { each: true })
  count!: number[];

  @Required()
  @IsArray()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  @ObjectRule('sameLengthAsCount', '$property must have one entry per feature, like count', (v, o) => !Array.isArray(v) || !Array.isArray(o['count']) || v.length === (o['count'] as unknown[]).length)
  mean!: number[];

  @Required()
  @IsArray()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  @ObjectRule('positiveStd', '$property must be positive, one per feature like count', (v, o) => !Array.isArray(v) || (Array.isArray(o['count']) && v.length === (o['count'] as unknown[]).length && v.every((x) => typeof x === 'number' && x > 0)))
  std!: number[];
}
