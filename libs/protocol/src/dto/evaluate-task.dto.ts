import 'reflect-metadata';
import { FeatureStatisticsDto } from './statistics.dto';
import type { FeatureStatistics } from '../study';
import { TaskScopeDto } from './task-scope.dto';
import { StudyManifestDto } from './study-manifest.dto';
import { StudyManifest } from '../study-manifest';
import { IsIn, IsObject, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { DATASETS, DatasetName, ModelSpec } from '../study';
import { ModelSpecDto, NestedObject } from './study-spec.dto';
import { OptionalField, Required } from './validators';

/** coordinator -> node, sealed: evaluate the enclosed global weights (the frame's tensors) on the local test split. */
export interface EvaluateTaskBody {
  studyId: string;
  round: number;
  modelVersion: number;
  dataset: DatasetName;
  model: ModelSpec;
  /** The study's manifest: the node runs the task only if it approved exactly this (by its SHA-256). */
  manifest: StudyManifest;
  /** Global feature statistics from the federated-statistics step, when the study uses them. */
  statistics?: FeatureStatistics;
}

/** Validates an {@link EvaluateTaskBody}. */
export class EvaluateTaskBodyDto extends TaskScopeDto implements EvaluateTaskBody {
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

  @NestedObject(() => StudyManifestDto)
  manifest!: StudyManifestDto;
}
