import 'reflect-metadata';
import { IsIn } from 'class-validator';
import { IsIntInRange, IsStudyId, Required } from './validators';

/** Why a node declines a task. A reason code only: never free text that could carry data. */
export const DECLINE_REASONS = [
  'not-approved',
  'budget-exhausted',
  'dataset-unavailable',
  'schema-mismatch',
  'stale-task',
  'busy',
  'internal-error',
] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

/** node -> coordinator, unsealed: the node will not run this task. */
export interface TaskDeclinedBody {
  studyId: string;
  round: number;
  reason: DeclineReason;
}

/** Validates a {@link TaskDeclinedBody}. */
export class TaskDeclinedBodyDto implements TaskDeclinedBody {
  @Required()
  @IsStudyId()
  studyId!: string;

  @Required()
  @IsIntInRange(1)
  round!: number;

  @Required()
  @IsIn(DECLINE_REASONS)
  reason!: DeclineReason;
}
