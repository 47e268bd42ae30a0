import 'reflect-metadata';
import { IsIntInRange, IsStudyId, Required } from './validators';

/** Which study, round and global model version a task or its result belongs to. */
export interface TaskScope {
  studyId: string;
  round: number;
  modelVersion: number;
}

/** Validates the scope shared by tasks and results; the kind-specific DTOs extend it. */
export class TaskScopeDto implements TaskScope {
  @Required()
  @IsStudyId()
  studyId!: string;

  @Required()
  @IsIntInRange(1)
  round!: number;

  @Required()
  @IsIntInRange(0)
  modelVersion!: number;
}
