/**
 * Socket.IO event names. Every event carries exactly one argument: a binary, signed envelope
 * (see envelope.ts). Event names are protocol constants; apps never spell them as literals.
 */
export const Events = {
  /** node -> coordinator: identify, present the node's keys. Signed, not encrypted. */
  Hello: 'medfed/hello',
  /** coordinator -> node: accepted; carries the coordinator's encryption key. Signed. */
  Welcome: 'medfed/welcome',
  /** coordinator -> node: train the enclosed global model. Signed and sealed to the node. */
  TrainTask: 'medfed/train-task',
  /** coordinator -> node: evaluate the enclosed global model on the local test split. */
  EvaluateTask: 'medfed/evaluate-task',
  /** node -> coordinator: the weight delta and aggregate training statistics. Signed and sealed. */
  TrainResult: 'medfed/train-result',
  /** node -> coordinator: aggregate evaluation counts. Signed and sealed. */
  EvaluateResult: 'medfed/evaluate-result',
  /** node -> coordinator: the node will not run this task (reason code only). Signed. */
  TaskDeclined: 'medfed/task-declined',
  /** coordinator -> node: the coordinator refused a message; names the problem, never echoes it. */
  Rejected: 'medfed/rejected',
  /**
   * coordinator -> unauthenticated socket: why its frame was refused, as plain JSON `{ code, message }`.
   * Unsigned on purpose — the coordinator cannot address an envelope to a sender it does not know —
   * so a node treats it as a hint for its log, never as a trusted statement.
   */
  ConnectionError: 'medfed/connection-error',
  /** node -> coordinator: one step of secure aggregation (keys, shares, masked input, unmasking shares). Sealed. */
  SecAggUp: 'medfed/secagg-up',
  /** coordinator -> node: one step of secure aggregation (all keys, routed shares, unmask request). Sealed. */
  SecAggDown: 'medfed/secagg-down',
  /** coordinator -> node: send per-feature sums of the training split for federated normalisation. Sealed. */
  StatisticsTask: 'medfed/statistics-task',
  /** node -> coordinator: per-feature counts, sums and sums of squares (aggregates only). Sealed. */
  StatisticsResult: 'medfed/statistics-result',
  /** coordinator -> node: a signed receipt for an accepted contribution. */
  Receipt: 'medfed/receipt',
} as const;
export type EventName = (typeof Events)[keyof typeof Events];
