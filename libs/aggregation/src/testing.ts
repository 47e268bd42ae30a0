/**
 * Test support for the aggregation lib: the contract suite every Strategy must pass, and JSON helpers for state.
 * Import from '@medfed/aggregation/testing' in specs only (it calls jest's describe/it/expect).
 */
import { AggregationError } from './aggregation.error';
import type { ClientUpdate, Strategy, StrategyState } from './strategy.types';

const f32 = (...xs: number[]) => Float32Array.from(xs);

/** A state as plain JSON (layers as number arrays), as a store would keep it. */
export function stateToJson(state: StrategyState): string {
  return JSON.stringify(Object.fromEntries(Object.entries(state).map(([k, layers]) => [k, layers.map((l) => Array.from(l))])));
}

/** Inverse of stateToJson. */
export function stateFromJson(json: string): StrategyState {
  const parsed = JSON.parse(json) as Record<string, number[][]>;
  return Object.fromEntries(Object.entries(parsed).map(([k, layers]) => [k, layers.map((l) => Float32Array.from(l))]));
}

function snapshot(layers: readonly Float32Array[]): number[][] {
  return layers.map((l) => Array.from(l));
}

function update(delta: number[][], numExamples: number, controlDelta?: number[][]): ClientUpdate {
  const layers = delta.map((l) => Float32Array.from(l));
  return {
    delta: layers,
    numExamples,
    // Every update carries a control delta so the same rounds drive SCAFFOLD; the others ignore it.
    controlDelta: (controlDelta ?? delta.map((l) => l.map((v) => v / 2))).map((l) => Float32Array.from(l)),
  };
}

/** A two-layer global model ([3] kernel, [1] bias). */
function sampleGlobal(): Float32Array[] {
  return [f32(0.5, -1, 2), f32(0.25)];
}

/** Five honest-looking updates that agree in sign per coordinate: enough for Krum (n > 2f + 2) and trimming. */
function sampleUpdates(): ClientUpdate[] {
  return [
    update([[0.1, -0.2, 0.3], [0.05]], 10),
    update([[0.2, -0.1, 0.2], [0.04]], 20),
    update([[0.15, -0.15, 0.25], [0.06]], 5),
    update([[0.12, -0.18, 0.28], [0.05]], 7),
    update([[0.18, -0.12, 0.22], [0.03]], 12),
  ];
}

/**
 * The contract every Strategy implementation passes: the identity on all-zero updates (adaptive ones too, over two
 * rounds), a move in the direction of the updates when they agree, AggregationError on empty/mismatched/non-finite/
 * badly weighted input, state that survives a JSON round trip, no mutation of any argument, fresh output arrays.
 *
 * @param name suite title, e.g. 'fedadam'.
 * @param make builds a fresh strategy with its default options.
 */
export function describeStrategyContract(name: string, make: () => Strategy): void {
  describe(`${name}: Strategy contract`, () => {
    it('leaves the global model unchanged when every delta is zero, over two rounds', () => {
      // Arrange
      const strategy = make();
      const global = sampleGlobal();
      const zeros = sampleUpdates().map((u) => update(snapshot(u.delta).map((l) => l.map(() => 0)), u.numExamples, [[0, 0, 0], [0]]));

      // Act
      const r1 = strategy.aggregateTrain(global, zeros, strategy.initialState(global), 5);
      const r2 = strategy.aggregateTrain(r1.global, zeros, r1.state, 5);

      // Assert
      expect(snapshot(r1.global)).toEqual(snapshot(global));
      expect(snapshot(r2.global)).toEqual(snapshot(global));
    });

    it('moves every coordinate in the direction all updates agree on', () => {
      // Arrange
      const strategy = make();
      const global = sampleGlobal();

      // Act
      const { global: next } = strategy.aggregateTrain(global, sampleUpdates(), strategy.initialState(global), 5);

      // Assert: every sample delta is + + − + … per coordinate: [+, −, +] and [+]
      const signs = next.map((layer, l) => Array.from(layer, (v, j) => Math.sign(v - global[l][j])));
      expect(signs).toEqual([[1, -1, 1], [1]]);
    });

    it('rejects an empty round', () => {
      const strategy = make();
      const global = sampleGlobal();
      expect(() => strategy.aggregateTrain(global, [], strategy.initialState(global), 5)).toThrow(AggregationError);
    });

    it('rejects a NaN or infinite delta, naming the update, layer and element', () => {
      const strategy = make();
      const global = sampleGlobal();
      const updates = sampleUpdates();
      updates[3] = update([[0, 0, 0], [Number.NaN]], 4);
      expect(() => strategy.aggregateTrain(global, updates, strategy.initialState(global), 5)).toThrow(/update 3: layer 1 element 0 is NaN/);
      updates[3] = update([[0, Number.POSITIVE_INFINITY, 0], [0]], 4);
      expect(() => strategy.aggregateTrain(global, updates, strategy.initialState(global), 5)).toThrow(AggregationError);
    });

    it('rejects a non-finite global model and a non-finite control delta', () => {
      const strategy = make();
      const updates = sampleUpdates();
      expect(() => strategy.aggregateTrain([f32(0, Number.NaN, 0), f32(0)], updates, strategy.initialState(sampleGlobal()), 5)).toThrow(
        /global model: layer 0 element 1 is NaN/,
      );
      updates[0] = update([[0, 0, 0], [0]], 1, [[0, 0, Number.NaN], [0]]);
      expect(() => strategy.aggregateTrain(sampleGlobal(), updates, strategy.initialState(sampleGlobal()), 5)).toThrow(AggregationError);
    });

    it('rejects a delta with the wrong layer count or layer length', () => {
      const strategy = make();
      const global = sampleGlobal();
      const state = strategy.initialState(global);
      const extra = [...sampleUpdates(), update([[0, 0, 0], [0], [0]], 1)];
      const short = [...sampleUpdates(), update([[0, 0], [0]], 1)];
      expect(() => strategy.aggregateTrain(global, extra, state, 6)).toThrow(/update 5: has 3 layers, expected 2/);
      expect(() => strategy.aggregateTrain(global, short, state, 6)).toThrow(/update 5: layer 0 has 2 elements, expected 3/);
    });

    it('rejects a zero, negative or NaN example count and a totalClients below the number of updates', () => {
      const strategy = make();
      const global = sampleGlobal();
      const state = strategy.initialState(global);
      for (const bad of [0, -3, Number.NaN]) {
        const updates = sampleUpdates();
        updates[1] = { ...updates[1], numExamples: bad };
        expect(() => strategy.aggregateTrain(global, updates, state, 5)).toThrow(/update 1: numExamples must be finite and > 0/);
      }
      expect(() => strategy.aggregateTrain(global, sampleUpdates(), state, 4)).toThrow(/totalClients/);
    });

    it('gives the same rounds from a state that went through JSON as from the live state', () => {
      // Arrange
      const strategy = make();
      const global = sampleGlobal();
      const r1 = strategy.aggregateTrain(global, sampleUpdates(), strategy.initialState(global), 5);
      const restored = stateFromJson(stateToJson(r1.state));

      // Act
      const live = strategy.aggregateTrain(r1.global, sampleUpdates(), r1.state, 5);
      const fromJson = make().aggregateTrain(r1.global, sampleUpdates(), restored, 5);

      // Assert
      expect(snapshot(fromJson.global)).toEqual(snapshot(live.global));
      expect(stateToJson(fromJson.state)).toEqual(stateToJson(live.state));
      expect(snapshot(strategy.trainPayload(restored))).toEqual(snapshot(strategy.trainPayload(r1.state)));
      for (const layers of Object.values(live.state)) {
        expect(layers.every((l) => l instanceof Float32Array)).toBe(true);
      }
    });

    it('does not modify the global model, the updates or the state, and returns fresh arrays', () => {
      // Arrange
      const strategy = make();
      const global = sampleGlobal();
      const updates = sampleUpdates();
      const state = strategy.aggregateTrain(global, updates, strategy.initialState(global), 5).state;
      const before = { global: snapshot(global), updates: updates.map((u) => [snapshot(u.delta), snapshot(u.controlDelta ?? [])]), state: stateToJson(state) };

      // Act
      const result = strategy.aggregateTrain(global, updates, state, 5);
      const payload = strategy.trainPayload(result.state);

      // Assert
      expect(snapshot(global)).toEqual(before.global);
      expect(updates.map((u) => [snapshot(u.delta), snapshot(u.controlDelta ?? [])])).toEqual(before.updates);
      expect(stateToJson(state)).toEqual(before.state);
      result.global.forEach((layer, l) => {
        expect(layer).toBeInstanceOf(Float32Array);
        expect(layer).not.toBe(global[l]);
        updates.forEach((u) => expect(layer).not.toBe(u.delta[l]));
      });
      payload.forEach((layer) => Object.values(result.state).forEach((layers) => layers.forEach((s) => expect(layer).not.toBe(s))));
    });

    it('has a trainPayload that is empty or shaped like the global model', () => {
      const strategy = make();
      const global = sampleGlobal();
      const payload = strategy.trainPayload(strategy.initialState(global));
      expect(payload.length === 0 || payload.map((l) => l.length).join() === global.map((l) => l.length).join()).toBe(true);
    });
  });
}
