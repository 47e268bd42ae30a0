import 'reflect-metadata';
import { IsIn } from 'class-validator';
import { DATASETS, DatasetName, ModelSpec } from '../study';
import { ModelSpecDto, NestedObject } from './study-spec.dto';
import { IsIntInRange, IsStudyId, Required } from './validators';

/** coordinator -> node, sealed: evaluate the enclosed global weights (the frame's tensors) on the local test split. */
export interface EvaluateTaskBody {
  studyId: string;
  round: number;
  modelVersion: number;
  dataset: DatasetName;
  model: ModelSpec;
}

/** Validates an {@link EvaluateTaskBody}. */
export class EvaluateTaskBodyDto implements EvaluateTaskBody {
  @Required()
  @IsStudyId()
  studyId!: string;

  @Required()
  @IsIntInRange(1)
  round!: number;

  @Required()
  @IsIntInRange(0)
  modelVersion!: number;

  @Required()
  @IsIn(DATASETS)
  dataset!: DatasetName;

  @NestedObject(() => ModelSpecDto)
  model!: ModelSpecDto;
}
