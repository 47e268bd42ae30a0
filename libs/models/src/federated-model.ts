import type { ModelFamily, ModelSpec, TrainingConfig } from '@medfed/protocol';
import type { ExampleSet } from '@medfed/data';

import type { TrainOptions, TrainOutcome } from './tabular-classifier.model';
import type { WeightTensor } from './weights.util';

/**
 * What every model family offers the node and the coordinator: weights in and out as plain tensors
 * (the only thing that is federated), local training on an ExampleSet, and probabilities for evaluation.
 * Owns tfjs memory: call `dispose()` when done. Every numeric step runs inside `tf.tidy`.
 */
export interface FederatedModel {
  readonly spec: ModelSpec;
  /** The trainable weights, in a fixed order: this order is the wire format of updates. */
  getWeights(): WeightTensor[];
  /** @throws RangeError when the count or a shape differs from getWeights(). */
  setWeights(weights: readonly WeightTensor[]): void;
  /**
   * Runs `config.localSteps` mini-batch steps on `set`, reproducibly from `seed`. Asynchronous so a node
   * can yield to its event loop between batches (heartbeats, audit writes) during long rounds.
   */
  train(set: ExampleSet, config: TrainingConfig, seed: number, options?: TrainOptions): Promise<TrainOutcome>;
  /** Probabilities of the positive class, row-major [set.n × outputs]. Inference mode (no dropout). */
  predict(set: ExampleSet): Promise<Float32Array>;
  dispose(): void;
}

/** How to build, and check, the models of one family. */
export interface ModelFamilyDefinition {
  family: ModelFamily;
  /** @throws RangeError naming the field when `spec` is not a valid architecture for this family. */
  validate(spec: ModelSpec): void;
  /** Builds a model with deterministic initial weights from `seed`. */
  create(spec: ModelSpec, seed: number): FederatedModel;
}

/** No family is registered under the requested name. */
export class UnknownModelFamilyError extends Error {
  override readonly name = 'UnknownModelFamilyError';
}

const families = new Map<ModelFamily, ModelFamilyDefinition>();

/** Registers (or replaces) the definition of a model family. */
export function registerModelFamily(definition: ModelFamilyDefinition): void {
  families.set(definition.family, definition);
}

/** The definition of `family`. @throws UnknownModelFamilyError when none is registered. */
export function modelFamily(family: ModelFamily): ModelFamilyDefinition {
  const definition = families.get(family);
  if (!definition) {
    throw new UnknownModelFamilyError(`no model family '${String(family)}' is registered (known: ${[...families.keys()].join(', ')})`);
  }
  return definition;
}

/** Validates `spec` and builds its model. @throws UnknownModelFamilyError or RangeError. */
export function createModel(spec: ModelSpec, seed: number): FederatedModel {
  const definition = modelFamily(spec.family);
  definition.validate(spec);
  return definition.create(spec, seed);
}
