import { EvaluateResultBody, EvaluateTaskBody, TrainTaskBody, WeightTensor } from '@medfed/protocol';
import { TabularClassifier, weightsDelta } from '@medfed/models';
import { scaffoldClientControl } from '@medfed/aggregation';
import { LocalData } from './local-data';

/** What one local training run produced: the tensors to send and aggregate statistics. */
export interface LocalTrainingResult {
  /** The weight delta; for SCAFFOLD followed by the control delta Δc_i. */
  delta: WeightTensor[];
  numExamples: number;
  meanLoss: number;
  durationMs: number;
  /** SCAFFOLD: the new c_i, to keep once the coordinator acknowledged the update. */
  nextControl?: WeightTensor[];
}

/** A task asks for a model the local data cannot feed. */
export class SchemaMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaMismatchError';
  }
}

/** A stable 31-bit seed from a string, so a task's local shuffling is reproducible. */
export function seedFrom(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) & 0x7fffffff;
}

/**
 * Runs tasks on the node's own data: trains the received global model and returns only the weight
 * delta; evaluates a model and returns only counts, suppressed below the minimum cohort.
 */
export class LocalTrainer {
  constructor(
    private readonly data: LocalData,
    private readonly nodeName: string,
  ) {}

  /**
   * Trains the global model on the local training split. `received` holds the global weights, and
   * for SCAFFOLD the server control variate c after them; `control` is this node's c_i (zeros when
   * absent). SCAFFOLD adds c − c_i to every gradient and returns Δc_i after the delta.
   */
  train(task: TrainTaskBody, received: readonly WeightTensor[], control: readonly WeightTensor[] | null = null): LocalTrainingResult {
    this.checkSchema(task.model.inputDim);
    const started = performance.now();
    const model = TabularClassifier.create(task.model, 0);
    try {
      const layers = model.getWeights().length;
      const scaffold = task.strategy === 'scaffold';
      if (received.length !== layers * (scaffold ? 2 : 1)) {
        throw new SchemaMismatchError(`the task carries ${received.length} tensors; a ${task.strategy ?? 'fedavg'} task for this model carries ${layers * (scaffold ? 2 : 1)}`);
      }
      const globalWeights = received.slice(0, layers);
      model.setWeights(globalWeights);
      const before = model.getWeights();
      const c = scaffold ? received.slice(layers) : [];
      const ci = scaffold ? (control ?? before.map((w) => ({ shape: w.shape, data: new Float32Array(w.data.length) }))) : [];
      const gradientCorrection = scaffold ? c.map((layer, i) => ({ shape: layer.shape, data: layer.data.map((v, j) => v - ci[i].data[j]) })) : undefined;
      const outcome = model.train(this.data.train, task.training, seedFrom(`${task.studyId}/${task.round}/${this.nodeName}`), { gradientCorrection });
      const after = model.getWeights();
      const delta = weightsDelta(after, before).map((data, i) => ({ shape: before[i].shape, data }));
      const result: LocalTrainingResult = { delta, numExamples: outcome.numExamples, meanLoss: outcome.meanLoss, durationMs: 0 };
      if (scaffold) {
        const next = scaffoldClientControl(
          ci.map((t) => t.data),
          c.map((t) => t.data),
          delta.map((t) => t.data),
          outcome.steps,
          task.training.learningRate,
        ).map((data, i) => ({ shape: before[i].shape, data }));
        result.delta = [...delta, ...next.map((t, i) => ({ shape: t.shape, data: t.data.map((v, j) => v - ci[i].data[j]) }))];
        result.nextControl = next;
      }
      result.durationMs = performance.now() - started;
      return result;
    } finally {
      model.dispose();
    }
  }

  evaluate(task: EvaluateTaskBody, globalWeights: readonly WeightTensor[], minCohortSize: number): EvaluateResultBody {
    this.checkSchema(task.model.inputDim);
    const base = { studyId: task.studyId, round: task.round, modelVersion: task.modelVersion };
    if (this.data.test.n < minCohortSize) {
      // Too few patients for an aggregate to be safe: only the count leaves the node.
      return { ...base, suppressed: true, numExamples: this.data.test.n };
    }
    const model = TabularClassifier.create(task.model, 0);
    try {
      model.setWeights(globalWeights);
      const counts = model.evaluate(this.data.test);
      return { ...base, suppressed: false, ...counts };
    } finally {
      model.dispose();
    }
  }

  /** Number of training examples, for the cohort check before training. */
  get trainSize(): number {
    return this.data.train.n;
  }

  private checkSchema(inputDim: number): void {
    if (inputDim !== this.data.featureCount) {
      throw new SchemaMismatchError(`the model expects ${inputDim} features; the local data set has ${this.data.featureCount}`);
    }
  }
}
