import type { ModelSpec, TrainingConfig } from '@medfed/protocol';
import type { ExampleSet, TabularSplit } from '@medfed/data';

import type { FederatedModel, ModelFamilyDefinition } from './federated-model';
import { TabularClassifier, TrainOptions, TrainOutcome } from './tabular-classifier.model';
import type { WeightTensor } from './weights.util';

/** The ExampleSet's `x` input and single label column as the TabularClassifier's split. */
export function tabularSplitOf(set: ExampleSet, inputDim: number): TabularSplit {
  const x = set.inputs['x'];
  if (!x || x.shape.length !== 2 || x.shape[1] !== inputDim) {
    throw new RangeError(`a tabular model needs input 'x' of shape [n, ${inputDim}], got ${x ? `[${x.shape.join(', ')}]` : 'none'}`);
  }
  if (set.labels.shape[1] !== 1) {
    throw new RangeError(`a tabular classifier has one output; the labels have ${set.labels.shape[1]} columns`);
  }
  return { x: x.data, y: set.labels.data, n: set.n, dim: inputDim };
}

/** A TabularClassifier behind the FederatedModel interface. */
class TabularFederatedModel implements FederatedModel {
  constructor(private readonly model: TabularClassifier) {}

  get spec(): ModelSpec {
    return this.model.spec;
  }

  getWeights(): WeightTensor[] {
    return this.model.getWeights();
  }

  setWeights(weights: readonly WeightTensor[]): void {
    this.model.setWeights(weights);
  }

  async train(set: ExampleSet, config: TrainingConfig, seed: number, options?: TrainOptions): Promise<TrainOutcome> {
    return this.model.train(tabularSplitOf(set, this.spec.inputDim), config, seed, options);
  }

  async predict(set: ExampleSet): Promise<Float32Array> {
    return this.model.predictProba(tabularSplitOf(set, this.spec.inputDim).x, set.n);
  }

  dispose(): void {
    this.model.dispose();
  }
}

function tabularFamily(family: 'logistic-regression' | 'mlp'): ModelFamilyDefinition {
  return {
    family,
    validate(spec: ModelSpec): void {
      if ((spec.outputs ?? 1) !== 1) throw new RangeError(`ModelSpec.outputs must be 1 for ${family}, got ${spec.outputs}`);
      // TabularClassifier.create validates the rest; building a throwaway model here would allocate tensors.
    },
    create: (spec, seed) => new TabularFederatedModel(TabularClassifier.create(spec, seed)),
  };
}

/** Logistic regression (FLamby's Fed-Heart-Disease model) as a federated model family. */
export const logisticRegressionFamily = tabularFamily('logistic-regression');
/** A multi-layer perceptron for tabular data as a federated model family. */
export const mlpFamily = tabularFamily('mlp');
