/**
 * Domain errors of the coordinator. Each carries a stable code that is sent back to the node in a
 * signed Rejected message and recorded as a site event; the message names the problem, never data.
 */
export type CoordinatorErrorCode =
  | 'NOT_ENROLLED'
  | 'NOT_AUTHENTICATED'
  | 'UNKNOWN_STUDY'
  | 'STUDY_NOT_RUNNING'
  | 'WRONG_ROUND'
  | 'ROUND_CLOSED'
  | 'NOT_A_PARTICIPANT'
  | 'DUPLICATE_CONTRIBUTION'
  | 'WRONG_MODEL_VERSION'
  | 'SHAPE_MISMATCH'
  | 'NON_FINITE'
  | 'INVALID_STATE'
  | 'INVALID_ENROLMENT'
  | 'INVALID_STUDY'
  | 'NOT_CLIPPED'
  | 'SECAGG';

/** A refusal the coordinator can explain to the sender. */
export class CoordinatorError extends Error {
  constructor(
    readonly code: CoordinatorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CoordinatorError';
  }
}
