import 'reflect-metadata';
import { TaskScopeDto } from './task-scope.dto';
import { Min } from 'class-validator';
import { IsFiniteNumber, IsIntInRange, IsShortLabel, Required } from './validators';

/** node -> coordinator, sealed: aggregate training statistics; the frame's tensors are the weight delta. */
export interface TrainResultBody {
  studyId: string;
  round: number;
  /** The global model version the delta is relative to. */
  modelVersion: number;
  /** Local training examples (the FedAvg weight, McMahan et al. 2017). */
  numExamples: number;
  /** Mean training loss over the local steps. */
  meanLoss: number;
  durationMs: number;
  /** The training backend that produced it. */
  backend: string;
}

/** Validates a {@link TrainResultBody}. */
export class TrainResultBodyDto extends TaskScopeDto implements TrainResultBody {
  @Required()
  @IsIntInRange(1)
  numExamples!: number;

  @Required()
  @IsFiniteNumber()
  meanLoss!: number;

  @Required()
  @IsFiniteNumber()
  @Min(0)
  durationMs!: number;

  @Required()
  @IsShortLabel(32)
  backend!: string;
}
