import 'reflect-metadata';
import { TaskScopeDto } from './task-scope.dto';
import { StudyManifestDto } from './study-manifest.dto';
import { StudyManifest } from '../study-manifest';
import { IsIn } from 'class-validator';
import { DATASETS, DatasetName, ModelSpec, STRATEGIES, StrategyName, TrainingConfig } from '../study';
import { ModelSpecDto, NestedObject, TrainingConfigDto } from './study-spec.dto';
import { IsEpochMs, IsIntInRange, OptionalField, Required } from './validators';

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
  /** The study's manifest: the node runs the task only if it approved exactly this (by its SHA-256). */
  manifest: StudyManifest;
}

/** Validates a {@link TrainTaskBody}. */
export class TrainTaskBodyDto extends TaskScopeDto implements TrainTaskBody {
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

  @NestedObject(() => StudyManifestDto)
  manifest!: StudyManifestDto;
}
