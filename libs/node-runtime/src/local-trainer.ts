import { EvaluateResultBody, EvaluateTaskBody, TrainTaskBody, WeightTensor } from '@medfed/protocol';
import { TabularClassifier, weightsDelta } from '@medfed/models';
import { LocalData } from './local-data';

/** What one local training run produced: the delta to send and aggregate statistics. */
export interface LocalTrainingResult {
  delta: WeightTensor[];
  numExamples: number;
  meanLoss: number;
  durationMs: number;
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

  train(task: TrainTaskBody, globalWeights: readonly WeightTensor[]): LocalTrainingResult {
    this.checkSchema(task.model.inputDim);
    const started = performance.now();
    const model = TabularClassifier.create(task.model, 0);
    try {
      model.setWeights(globalWeights);
      const before = model.getWeights();
      const outcome = model.train(this.data.train, task.training, seedFrom(`${task.studyId}/${task.round}/${this.nodeName}`));
      const after = model.getWeights();
      const delta = weightsDelta(after, before).map((data, i) => ({ shape: before[i].shape, data }));
      return { delta, numExamples: outcome.numExamples, meanLoss: outcome.meanLoss, durationMs: performance.now() - started };
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
