import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsString, Matches, Min, ValidateNested } from 'class-validator';
import { IsFiniteNumber, IsIntInRange, ObjectRule, Required } from './validators';

/** Most probability bins per histogram. */
export const MAX_SCORE_BINS = 1000;
/** Most outputs (histograms) per score group. */
export const MAX_SCORE_OUTPUTS = 64;

/** Counts of positive and negative examples per probability bin, for one binary output. */
export interface ScoreHistogramWire {
  positives: number[];
  negatives: number[];
}

/**
 * The histograms of one set of predictions (group `model`: the global model; other groups are study
 * extras such as Tox21's classifier trained on synthetic data), one per output.
 */
export interface ScoreGroupWire {
  group: string;
  histograms: ScoreHistogramWire[];
}

/** A study-specific rate: `count` out of `total` examples, sent only when `total` reaches the minimum cohort. */
export interface RateWire {
  name: string;
  count: number;
  total: number;
}

/** The aggregate evaluation of one split (validation) of a site. */
export interface SplitEvaluationWire {
  numExamples: number;
  /** Σ over examples of the mean binary cross-entropy over the example's labelled outputs. */
  lossSum: number;
  scores: ScoreGroupWire[];
}

function sameLengthAsPositives(value: unknown, o: Record<string, unknown>): boolean {
  return !Array.isArray(value) || !Array.isArray(o['positives']) || value.length === (o['positives'] as unknown[]).length;
}

/** Validates a {@link ScoreHistogramWire}: equal-length arrays of non-negative integer counts. */
export class ScoreHistogramDto implements ScoreHistogramWire {
  @Required()
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(MAX_SCORE_BINS)
  @IsInt({ each: true })
  @Min(0, { each: true })
  positives!: number[];

  @Required()
  @IsArray()
  @IsInt({ each: true })
  @Min(0, { each: true })
  @ObjectRule('sameBins', '$property must have as many bins as positives', sameLengthAsPositives)
  negatives!: number[];
}

/** Validates a {@link ScoreGroupWire}. */
export class ScoreGroupDto implements ScoreGroupWire {
  @Required()
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{0,31}$/, { message: '$property must be 1-32 chars of [a-z0-9-], starting with a letter' })
  group!: string;

  @Required()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SCORE_OUTPUTS)
  @ValidateNested({ each: true })
  @Type(() => ScoreHistogramDto)
  histograms!: ScoreHistogramDto[];
}

/** Validates a {@link RateWire}: count ≤ total. */
export class RateDto implements RateWire {
  @Required()
  @IsString()
  @Matches(/^[a-z][a-zA-Z0-9@_-]{0,47}$/, { message: '$property must be 1-48 chars of [a-zA-Z0-9@_-], starting with a lower-case letter' })
  name!: string;

  @Required()
  @IsIntInRange(0)
  @ObjectRule('countAtMostTotal', '$property must not exceed total', (value, o) => typeof value !== 'number' || typeof o['total'] !== 'number' || value <= (o['total'] as number))
  count!: number;

  @Required()
  @IsIntInRange(1)
  total!: number;
}

/** Validates a {@link SplitEvaluationWire}. */
export class SplitEvaluationDto implements SplitEvaluationWire {
  @Required()
  @IsIntInRange(0)
  numExamples!: number;

  @Required()
  @IsFiniteNumber()
  @Min(0)
  lossSum!: number;

  @Required()
  @IsArray()
  @ArrayMaxSize(4)
  @ValidateNested({ each: true })
  @Type(() => ScoreGroupDto)
  scores!: ScoreGroupDto[];
}

/** Total of one histogram's counts. */
export function histogramTotal(h: ScoreHistogramWire): number {
  return h.positives.reduce((s, v) => s + v, 0) + h.negatives.reduce((s, v) => s + v, 0);
}
