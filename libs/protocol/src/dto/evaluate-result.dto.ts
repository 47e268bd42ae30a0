import 'reflect-metadata';
import { TaskScopeDto } from './task-scope.dto';
import { IsBoolean, IsDefined, Min } from 'class-validator';
import { IsFiniteNumber, IsIntInRange, ObjectRule, Required, ValidateWhenMetricsExpected, compose } from './validators';

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
}

function metric(kind: 'count' | 'sum'): PropertyDecorator {
  return compose(
    ValidateWhenMetricsExpected(),
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
}
