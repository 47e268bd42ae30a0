import 'reflect-metadata';
import { IsIn, IsString, MaxLength } from 'class-validator';
import { TaskScopeDto } from './task-scope.dto';
import { IsIntInRange, Required } from './validators';

/**
 * The steps of secure aggregation (Bonawitz et al. 2017), as they travel between node and coordinator.
 * Up: advertise → shares → masked → consistency (the site's signature of the survivor set U3, the
 * malicious-server variant's ConsistencyCheck) → unmasking. Down: keys → routed-shares →
 * unmask-request (U3) → signatures (the t or more signatures of U3 the site must see before it
 * reveals any share).
 */
export const SECAGG_UP_STEPS = ['advertise', 'shares', 'masked', 'consistency', 'unmasking'] as const;
/** The coordinator → node steps; see {@link SECAGG_UP_STEPS}. */
export const SECAGG_DOWN_STEPS = ['keys', 'routed-shares', 'unmask-request', 'signatures'] as const;
export type SecAggUpStep = (typeof SECAGG_UP_STEPS)[number];
export type SecAggDownStep = (typeof SECAGG_DOWN_STEPS)[number];

/**
 * One secure-aggregation step. `payload` is the step's message in the secagg lib's wire form
 * (validated there: keys, shares and masked words); `session` counts the round's attempts, so a step
 * of an abandoned attempt is refused.
 */
export interface SecAggStepBody<S extends string = string> {
  studyId: string;
  round: number;
  modelVersion: number;
  session: number;
  step: S;
  payload: string;
}

/** node -> coordinator, sealed. */
export class SecAggUpBodyDto extends TaskScopeDto implements SecAggStepBody<SecAggUpStep> {
  @Required()
  @IsIntInRange(1, 1_000_000)
  session!: number;

  @Required()
  @IsIn(SECAGG_UP_STEPS)
  step!: SecAggUpStep;

  @Required()
  @IsString()
  @MaxLength(512 * 1024 * 1024)
  payload!: string;
}

/** coordinator -> node, sealed. */
export class SecAggDownBodyDto extends TaskScopeDto implements SecAggStepBody<SecAggDownStep> {
  @Required()
  @IsIntInRange(1, 1_000_000)
  session!: number;

  @Required()
  @IsIn(SECAGG_DOWN_STEPS)
  step!: SecAggDownStep;

  @Required()
  @IsString()
  @MaxLength(512 * 1024 * 1024)
  payload!: string;
}
