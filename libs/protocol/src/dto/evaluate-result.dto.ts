import 'reflect-metadata';
import { TaskScopeDto } from './task-scope.dto';
import { ArrayMaxSize, IsArray, IsBoolean, IsDefined, IsNumber, IsObject, Min, ValidateIf, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { IsFiniteNumber, IsIntInRange, ObjectRule, OptionalField, Required, ValidateWhenMetricsExpected, compose } from './validators';
import { RateDto, RateWire, ScoreGroupDto, ScoreGroupWire, SplitEvaluationDto, SplitEvaluationWire, histogramTotal } from './evaluation-scores.dto';

/**
 * node -> coordinator, sealed: aggregate evaluation counts on the node's test split.
 * When the node has fewer test patients than its minimum cohort, it sends `suppressed: true` and
 * only `numExamples`; every metric field must then be absent. Otherwise all metric fields are
 * present and consistent: TP+FP+TN+FN = numExamples and numCorrect = TP+TN.
 */
export interface EvaluateResultBody {
  studyId: string;
  round: number;
  modelVersion: number;
  suppressed: boolean;
  numExamples: number;
  numCorrect?: number;
  /** Sum of the per-example loss (mean = lossSum / numExamples). */
  lossSum?: number;
  truePositives?: number;
  falsePositives?: number;
  trueNegatives?: number;
  falseNegatives?: number;
  /** Score histograms of the test split, per group and output (AUC, Se/PPV and calibration come from these). */
  scores?: ScoreGroupWire[];
  /** Study-specific rates on the test split, each over at least the minimum cohort. */
  rates?: RateWire[];
  /** The same aggregates on the validation split (for early stopping and threshold choice); absent when the site has none to share. */
  validation?: SplitEvaluationWire;
  /** Permutation importance on the test split: per feature, Σ over its examples of the loss increase when that feature is shuffled. */
  importance?: number[];
}

function metric(kind: 'count' | 'sum'): PropertyDecorator {
  return compose(
    ValidateWhenMetricsExpected(),
    // Multi-output models send score histograms instead of one confusion matrix: then the counts may be absent.
    ValidateIf((o: object, value: unknown) => value !== undefined || kind === 'sum' || (o as { scores?: unknown }).scores === undefined),
    ObjectRule('absentWhenSuppressed', '$property must be absent when suppressed is true', (_v, o) => o['suppressed'] !== true),
    IsDefined({ message: '$property is required when suppressed is false' }),
    kind === 'count' ? IsIntInRange(0) : compose(IsFiniteNumber(), Min(0)),
  );
}

function intOrNaN(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : Number.NaN;
}

/** Validates an {@link EvaluateResultBody}, including the count identities. */
export class EvaluateResultBodyDto extends TaskScopeDto implements EvaluateResultBody {
  @Required()
  @IsBoolean()
  suppressed!: boolean;

  @Required()
  @IsIntInRange(0)
  @ObjectRule(
    'confusionSumsToExamples',
    '$property must equal truePositives + falsePositives + trueNegatives + falseNegatives',
    (value, o) => {
      if (o['suppressed'] !== false) return true;
      const sum = intOrNaN(o['truePositives']) + intOrNaN(o['falsePositives']) + intOrNaN(o['trueNegatives']) + intOrNaN(o['falseNegatives']);
      // A missing/ill-typed count is reported on its own field; only judge the identity when all are numbers.
      return Number.isNaN(sum) || sum === value;
    },
  )
  numExamples!: number;

  @metric('count')
  @ObjectRule('correctIsTpPlusTn', '$property must equal truePositives + trueNegatives', (value, o) => {
    if (o['suppressed'] !== false) return true;
    const sum = intOrNaN(o['truePositives']) + intOrNaN(o['trueNegatives']);
    return Number.isNaN(sum) || sum === value;
  })
  numCorrect?: number;

  @metric('sum')
  lossSum?: number;

  @metric('count')
  truePositives?: number;

  @metric('count')
  falsePositives?: number;

  @metric('count')
  trueNegatives?: number;

  @metric('count')
  falseNegatives?: number;

  @OptionalField()
  @ObjectRule('absentWhenSuppressed', '$property must be absent when suppressed is true', (_v, o) => o['suppressed'] !== true)
  @IsArray()
  @ArrayMaxSize(4)
  @ValidateNested({ each: true })
  @Type(() => ScoreGroupDto)
  @ObjectRule('histogramsWithinExamples', '$property: a histogram counts more examples than numExamples', (value, o) =>
    !Array.isArray(value) || (value as ScoreGroupWire[]).every((g) => !Array.isArray(g?.histograms) || g.histograms.every((h) => !h || !Array.isArray(h.positives) || !Array.isArray(h.negatives) || histogramTotal(h) <= (o['numExamples'] as number))),
  )
  scores?: ScoreGroupDto[];

  @OptionalField()
  @ObjectRule('absentWhenSuppressed', '$property must be absent when suppressed is true', (_v, o) => o['suppressed'] !== true)
  @IsArray()
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => RateDto)
  rates?: RateDto[];

  @OptionalField()
  @ObjectRule('absentWhenSuppressed', '$property must be absent when suppressed is true', (_v, o) => o['suppressed'] !== true)
  @IsObject()
  @ValidateNested()
  @Type(() => SplitEvaluationDto)
  validation?: SplitEvaluationDto;

  @OptionalField()
  @ObjectRule('absentWhenSuppressed', '$property must be absent when suppressed is true', (_v, o) => o['suppressed'] !== true)
  @IsArray()
  @ArrayMaxSize(4096)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  importance?: number[];
}
