import type { StrategyName } from '@medfed/protocol';

import { AggregationError } from './aggregation.error';
import { assertFiniteLayers, assertSameShape } from './layer-checks.util';
import { copyLayers, zerosLike } from './layer-math.util';
import type { ClientUpdate, Strategy, StrategyState } from './strategy.types';

/**
 * Base class of every strategy (after Flower's `Strategy`): it owns the four hooks and the checks every round
 * needs — at least one update, every delta (and control delta) shaped like the global model and finite, every
 * example count finite and > 0, `totalClients` a whole number ≥ the number of updates — then hands the checked
 * round to `aggregate`, the one hook a strategy file overrides.
 */
export abstract class StrategyBase implements Strategy {
  abstract readonly name: StrategyName;
  readonly needsIndividualUpdates: boolean = false;
  /** Names of the layer lists the strategy keeps in its state; each starts as zeros shaped like the global model. */
  protected readonly stateKeys: readonly string[] = [];
  /** The state entry sent to every client with its train task (SCAFFOLD: 'c'), if any. */
  protected readonly payloadKey: string | undefined = undefined;

  /** Zeros shaped like `global` for each of `stateKeys` ({} for a stateless strategy). @throws AggregationError on a non-finite global model. */
  initialState(global: readonly Float32Array[]): StrategyState {
    assertFiniteLayers(global, 'global model');
    return Object.fromEntries(this.stateKeys.map((key) => [key, zerosLike(global)]));
  }

  /** A copy of the `payloadKey` state entry, or [] when the strategy sends nothing beyond the global model. */
  trainPayload(state: StrategyState): Float32Array[] {
    if (this.payloadKey === undefined) return [];
    const layers = state[this.payloadKey];
    if (layers === undefined) {
      throw new AggregationError(`${this.name} state has no '${this.payloadKey}': start from initialState(global)`);
    }
    return copyLayers(layers);
  }

  /** Checks the round (see the class comment), then delegates to `aggregate`. */
  aggregateTrain(
    global: readonly Float32Array[],
    updates: readonly ClientUpdate[],
    state: StrategyState,
    totalClients: number,
  ): { global: Float32Array[]; state: StrategyState } {
    if (updates.length === 0) {
      throw new AggregationError(`${this.name} needs at least one update, got 0`);
    }
    if (!Number.isInteger(totalClients) || totalClients < updates.length) {
      throw new AggregationError(`${this.name}: totalClients must be a whole number ≥ ${updates.length} (the updates received), got ${totalClients}`);
    }
    assertFiniteLayers(global, 'global model');
    updates.forEach((u, i) => {
      if (!Number.isFinite(u.numExamples) || u.numExamples <= 0) {
        throw new AggregationError(`update ${i}: numExamples must be finite and > 0, got ${u.numExamples}`);
      }
      assertSameShape(global, u.delta, `update ${i}`);
      assertFiniteLayers(u.delta, `update ${i}`);
      if (u.controlDelta !== undefined) {
        assertSameShape(global, u.controlDelta, `update ${i} controlDelta`);
        assertFiniteLayers(u.controlDelta, `update ${i} controlDelta`);
      }
    });
    return this.aggregate(global, updates, state, totalClients);
  }

  /**
   * The strategy's arithmetic, on a checked round. Must not modify its arguments; returns fresh arrays.
   */
  protected abstract aggregate(
    global: readonly Float32Array[],
    updates: readonly ClientUpdate[],
    state: StrategyState,
    totalClients: number,
  ): { global: Float32Array[]; state: StrategyState };

  /** configure-evaluate hook: every client evaluates the global model as is. */
  configureEvaluate(global: readonly Float32Array[]): readonly Float32Array[] {
    return global;
  }

  /** aggregate-evaluate hook: the coordinator sums evaluation counts itself, so results pass through unchanged. */
  aggregateEvaluate<T>(results: T): T {
    return results;
  }
}

/** Checks a positive finite option. @throws RangeError naming the option and the bad value. */
export function positiveOption(strategy: string, option: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`${strategy}: ${option} must be a finite number > 0, got ${value}`);
  }
  return value;
}

/** Checks an option in [0, 1). @throws RangeError naming the option and the bad value. */
export function unitIntervalOption(strategy: string, option: string, value: number): number {
  if (!(value >= 0 && value < 1)) {
    throw new RangeError(`${strategy}: ${option} must be in [0, 1), got ${value}`);
  }
  return value;
}
