import 'reflect-metadata';
import { FeatureStatisticsDto } from './statistics.dto';
import type { FeatureStatistics } from '../study';
import { TaskScopeDto } from './task-scope.dto';
import { StudyManifestDto } from './study-manifest.dto';
import { StudyManifest } from '../study-manifest';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsNumber, IsObject, IsString, MaxLength, Min, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { DATASETS, DatasetName, ModelSpec, STRATEGIES, StrategyName, TrainingConfig } from '../study';
import { ModelSpecDto, NestedObject, TrainingConfigDto } from './study-spec.dto';
import { IsEpochMs, IsIntInRange, OptionalField, Required } from './validators';

/** A secure-aggregation session's public parameters, as every selected site receives them. */
export interface SecAggTaskParams {
  session: number;
  siteIds: string[];
  threshold: number;
  clipRange: number;
  maxWeight: number;
}

/** Validates {@link SecAggTaskParams}. */
export class SecAggTaskParamsDto implements SecAggTaskParams {
  @Required()
  @IsIntInRange(1, 1_000_000)
  session!: number;

  @Required()
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(255)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  siteIds!: string[];

  @Required()
  @IsIntInRange(2, 255)
  threshold!: number;

  @Required()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  clipRange!: number;

  @Required()
  @IsIntInRange(1, 1 << 30)
  maxWeight!: number;
}

/** coordinator -> node, sealed: train the enclosed global weights (the frame's tensors) for one round. */
export interface TrainTaskBody {
  studyId: string;
  /** Round number, from 1. */
  round: number;
  /** Version of the global model the tensors hold, from 0. */
  modelVersion: number;
  dataset: DatasetName;
  model: ModelSpec;
  training: TrainingConfig;
  /** Epoch ms after which the coordinator no longer accepts a result. */
  deadlineAt: number;
  /**
   * The study's strategy, when the node has a part in it beyond plain training (default fedavg).
   * For `scaffold` the frame carries the weights followed by the server control variate c, and the
   * result carries the weight delta followed by the control delta Δc_i.
   */
  strategy?: StrategyName;
  /** How many sites were selected for this round: with split DP noise each adds σ/√participants. */
  participants?: number;
  /** Present when the update goes through secure aggregation: the session's public parameters. */
  secagg?: SecAggTaskParams;
  /** The study's manifest: the node runs the task only if it approved exactly this (by its SHA-256). */
  manifest: StudyManifest;
  /** Global feature statistics from the federated-statistics step, when the study uses them. */
  statistics?: FeatureStatistics;
}

/** Validates a {@link TrainTaskBody}. */
export class TrainTaskBodyDto extends TaskScopeDto implements TrainTaskBody {
  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => FeatureStatisticsDto)
  statistics?: FeatureStatisticsDto;

  @Required()
  @IsIn(DATASETS)
  dataset!: DatasetName;

  @NestedObject(() => ModelSpecDto)
  model!: ModelSpecDto;

  @NestedObject(() => TrainingConfigDto)
  training!: TrainingConfigDto;

  @Required()
  @IsEpochMs()
  deadlineAt!: number;

  @OptionalField()
  @IsIn(STRATEGIES)
  strategy?: StrategyName;

  @OptionalField()
  @IsIntInRange(1, 100_000)
  participants?: number;

  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => SecAggTaskParamsDto)
  secagg?: SecAggTaskParamsDto;

  @NestedObject(() => StudyManifestDto)
  manifest!: StudyManifestDto;
}
