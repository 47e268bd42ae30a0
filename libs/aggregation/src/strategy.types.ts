import type { StrategyName } from '@medfed/protocol';

/** One site's contribution to a train round. */
export interface ClientUpdate {
  /** Weight delta y − x (after − before local training), one Float32Array per layer, shaped like the global model. */
  delta: readonly Float32Array[];
  /** The site's training-set size: the weight of its update in the example-weighted strategies. */
  numExamples: number;
  /** SCAFFOLD only: Δc_i = c_i⁺ − c_i, same shapes as delta. */
  controlDelta?: readonly Float32Array[];
}

/**
 * Server state a strategy carries between rounds (e.g. Adam moments, SCAFFOLD's c); named layer lists so the
 * coordinator can persist it with encodeTensors. Holds nothing but layers: no counters, no options.
 */
export type StrategyState = Record<string, Float32Array[]>;

/**
 * A server-side aggregation strategy (after Flower's `server/strategy`): configure-train, aggregate-train,
 * configure-evaluate and aggregate-evaluate hooks over plain Float32Array layers. Implementations are pure:
 * they never modify their arguments and return fresh arrays.
 */
export interface Strategy {
  readonly name: StrategyName;
  /** True for median, trimmed mean, Krum: they need individual updates and cannot run under secure aggregation. */
  readonly needsIndividualUpdates: boolean;
  /** State before round 1 (may be {}). */
  initialState(global: readonly Float32Array[]): StrategyState;
  /** configure-train hook: extra layers sent to every client with its train task (SCAFFOLD: the server control variate c), or []. */
  trainPayload(state: StrategyState): Float32Array[];
  /**
   * aggregate-train hook: new global model and new state from the round's updates. `totalClients` = N, the number
   * of sites in the federation (SCAFFOLD's |S|/N). Throws AggregationError on empty/mismatched/non-finite input.
   */
  aggregateTrain(
    global: readonly Float32Array[],
    updates: readonly ClientUpdate[],
    state: StrategyState,
    totalClients: number,
  ): { global: Float32Array[]; state: StrategyState };
  // configure-evaluate / aggregate-evaluate: evaluation is combined from counts by the coordinator, so
  // StrategyBase implements them as pass-through; they are not part of this contract.
}
