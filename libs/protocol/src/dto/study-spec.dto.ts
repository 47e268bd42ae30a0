import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import {
  DATASETS,
  DatasetName,
  MODEL_FAMILIES,
  ModelFamily,
  ModelSpec,
  ArchitectureValue,
  EarlyStoppingSpec,
  PreprocessingSpec,
  SyntheticEvaluationSpec,
  GeneratorPhaseSpec,
  OPTIMIZERS,
  OptimizerName,
  STRATEGIES,
  DifferentialPrivacySpec,
  SecureAggregationSpec,
  StrategyConfig,
  StrategyName,
  StudySpec,
  TrainingConfig,
} from '../study';
import { IsAbove, IsBelow, IsFiniteNumber, IsIntInRange, ObjectRule, OptionalField, Required, compose } from './validators';

/** Most hidden layers a `mlp` may have. */
export const MAX_HIDDEN_LAYERS = 8;
/** Widest hidden layer. */
export const MAX_HIDDEN_WIDTH = 4096;
/** Most input features. */
export const MAX_INPUT_DIM = 100_000;
/** Most settings in a ModelSpec's `architecture`. */
export const MAX_ARCHITECTURE_KEYS = 32;

/** Validates a {@link ModelSpec}: a known family, bounded input and hidden sizes, dropout in [0, 1). */
export class ModelSpecDto implements ModelSpec {
  @Required()
  @IsIn(MODEL_FAMILIES)
  family!: ModelFamily;

  @Required()
  @IsIntInRange(1, MAX_INPUT_DIM)
  inputDim!: number;

  @OptionalField()
  @IsArray()
  @ArrayMaxSize(MAX_HIDDEN_LAYERS)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(MAX_HIDDEN_WIDTH, { each: true })
  // Logistic regression has no hidden layers; a non-empty list there is a mistake, not a no-op.
  @ObjectRule(
    'hiddenOnlyForMlp',
    '$property must be absent or empty unless family is mlp',
    (value, o) => o['family'] === 'mlp' || !Array.isArray(value) || value.length === 0,
  )
  hidden?: number[];

  @OptionalField()
  @IsFiniteNumber()
  @Min(0)
  @IsBelow(1)
  dropout?: number;

  @OptionalField()
  @IsArray()
  @ArrayMaxSize(4)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(MAX_INPUT_DIM, { each: true })
  @ObjectRule('inputShapeMatchesInputDim', '$property must multiply out to inputDim', (value, o) =>
    !Array.isArray(value) || (value as number[]).reduce((p, d) => p * d, 1) === o['inputDim'],
  )
  inputShape?: number[];

  @OptionalField()
  @IsIntInRange(1, 1024)
  outputs?: number;

  @OptionalField()
  @IsObject()
  @ObjectRule(
    'plainArchitecture',
    `$property must have at most ${MAX_ARCHITECTURE_KEYS} keys of [A-Za-z0-9_] with finite numbers, short strings, booleans or arrays of at most 64 finite numbers`,
    (value) => isPlainArchitecture(value),
  )
  architecture?: Record<string, ArchitectureValue>;
}

function isPlainArchitecture(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value as Record<string, unknown>);
  return (
    entries.length <= MAX_ARCHITECTURE_KEYS &&
    entries.every(
      ([k, v]) =>
        /^[A-Za-z0-9_]{1,64}$/.test(k) &&
        ((typeof v === 'number' && Number.isFinite(v)) ||
          typeof v === 'boolean' ||
          (typeof v === 'string' && v.length <= 64) ||
          (Array.isArray(v) && v.length <= 64 && v.every((x) => typeof x === 'number' && Number.isFinite(x)))),
    )
  );
}

/** Validates a {@link TrainingConfig}. */
export class TrainingConfigDto implements TrainingConfig {
  @Required()
  @IsIntInRange(1, 100_000)
  localSteps!: number;

  @Required()
  @IsIntInRange(1, 65_536)
  batchSize!: number;

  @Required()
  @IsFiniteNumber()
  @IsAbove(0)
  @Max(10)
  learningRate!: number;

  @Required()
  @IsIn(OPTIMIZERS)
  optimizer!: OptimizerName;

  @Required()
  @IsFiniteNumber()
  @Min(0)
  l2!: number;

  @Required()
  @IsFiniteNumber()
  @Min(0)
  proximalMu!: number;
}

/** Validates a {@link StrategyConfig}: every field optional, each within its meaningful range. */
export class StrategyConfigDto implements StrategyConfig {
  @OptionalField()
  @IsFiniteNumber()
  @IsAbove(0)
  @Max(100)
  serverLearningRate?: number;

  @OptionalField()
  @IsFiniteNumber()
  @Min(0)
  @IsBelow(1)
  beta1?: number;

  @OptionalField()
  @IsFiniteNumber()
  @Min(0)
  @IsBelow(1)
  beta2?: number;

  @OptionalField()
  @IsFiniteNumber()
  @IsAbove(0)
  @Max(1)
  tau?: number;

  @OptionalField()
  @IsFiniteNumber()
  @Min(0)
  @IsBelow(0.5)
  trimFraction?: number;

  @OptionalField()
  @IsIntInRange(0, 1000)
  byzantine?: number;
}

/** Validates a {@link DifferentialPrivacySpec}. */
export class DifferentialPrivacySpecDto implements DifferentialPrivacySpec {
  @Required()
  @IsFiniteNumber()
  @Min(0)
  @Max(1000)
  noiseMultiplier!: number;

  @Required()
  @IsFiniteNumber()
  @IsAbove(0)
  @Max(1e6)
  clipNorm!: number;

  @Required()
  @IsIn(['central', 'split'])
  placement!: 'central' | 'split';
}

/** Validates a {@link SecureAggregationSpec}. */
export class SecureAggregationSpecDto implements SecureAggregationSpec {
  @OptionalField()
  @IsIntInRange(2, 255)
  threshold?: number;

  @Required()
  @IsFiniteNumber()
  @IsAbove(0)
  @Max(1e6)
  clipRange!: number;
}

/** A nested, required, validated object of class `cls`. */
export function NestedObject(cls: () => new () => object): PropertyDecorator {
  return compose(Required(), IsObject(), ValidateNested(), Type(cls));
}

/** Validates an {@link EarlyStoppingSpec}. */
export class EarlyStoppingSpecDto implements EarlyStoppingSpec {
  @Required()
  @IsIntInRange(1, 1000)
  patience!: number;

  @OptionalField()
  @IsFiniteNumber()
  @Min(0)
  minDelta?: number;
}

/** Validates a {@link PreprocessingSpec}. */
export class PreprocessingSpecDto implements PreprocessingSpec {
  @Required()
  @IsBoolean()
  federatedStatistics!: boolean;
}

/** Validates a {@link SyntheticEvaluationSpec}. */
export class SyntheticEvaluationSpecDto implements SyntheticEvaluationSpec {
  @Required()
  @IsIntInRange(1, 1_048_576)
  samples!: number;

  @Required()
  @IsIntInRange(1, 100_000)
  steps!: number;
}

export class GeneratorPhaseSpecDto implements GeneratorPhaseSpec {
  @Required()
  @IsIntInRange(1, 10_000)
  rounds!: number;

  @Required()
  @IsIntInRange(1, 100_000)
  localSteps!: number;

  @OptionalField()
  @IsIntInRange(1, 65_536)
  batchSize?: number;
}

/** Validates a whole {@link StudySpec}, as created through the REST API or the CLI. */
export class StudySpecDto implements StudySpec {
  @Required()
  @IsString()
  @Length(1, 100)
  @Matches(/^\P{Cc}+$/u, { message: '$property must not contain control characters' })
  name!: string;

  @Required()
  @IsIn(DATASETS)
  dataset!: DatasetName;

  @NestedObject(() => ModelSpecDto)
  model!: ModelSpecDto;

  @NestedObject(() => TrainingConfigDto)
  training!: TrainingConfigDto;

  @Required()
  @IsIn(STRATEGIES)
  strategy!: StrategyName;

  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => StrategyConfigDto)
  strategyConfig?: StrategyConfigDto;

  @Required()
  @IsIntInRange(1, 10_000)
  rounds!: number;

  @Required()
  @IsIntInRange(1, 1000)
  minSites!: number;

  @OptionalField()
  @IsFiniteNumber()
  @IsAbove(0)
  @Max(1)
  siteFraction?: number;

  @OptionalField()
  @IsIntInRange(0, 100)
  maxRoundRetries?: number;

  @Required()
  @IsIntInRange(1, 86_400)
  roundTimeoutSeconds!: number;

  @Required()
  @IsIntInRange(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
  seed!: number;

  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => DifferentialPrivacySpecDto)
  dp?: DifferentialPrivacySpecDto;

  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => SecureAggregationSpecDto)
  secureAggregation?: SecureAggregationSpecDto;

  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => EarlyStoppingSpecDto)
  earlyStopping?: EarlyStoppingSpecDto;

  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => PreprocessingSpecDto)
  preprocessing?: PreprocessingSpecDto;

  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => SyntheticEvaluationSpecDto)
  syntheticEvaluation?: SyntheticEvaluationSpecDto;

  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => GeneratorPhaseSpecDto)
  generatorPhase?: GeneratorPhaseSpecDto;
}
