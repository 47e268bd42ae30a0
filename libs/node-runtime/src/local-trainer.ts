import { EvaluateResultBody, EvaluateTaskBody, FeatureStatistics, TrainTaskBody, WeightTensor, isGeneratorRound, totalRounds } from '@medfed/protocol';
import { createModel, weightsDelta } from '@medfed/models';
import { scaffoldClientControl } from '@medfed/aggregation';
import { FeatureSums, SiteSplits, evaluateSite } from '@medfed/studies';
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

/** A task asks for a model or data the local data set cannot feed. */
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
 * delta; evaluates a model and returns only aggregates, suppressed below the minimum cohort; computes
 * the per-feature sums of federated statistics.
 */
export class LocalTrainer {
  private prepared: { key: string; splits: SiteSplits } | null = null;

  constructor(
    private readonly data: LocalData,
    private readonly nodeName: string,
  ) {}

  /** The data set this node holds. */
  get dataset(): string {
    return this.data.dataset.dataset;
  }

  /** Number of training examples, for the cohort check before training. */
  get trainSize(): number {
    return this.data.site.sizes.train;
  }

  /** Per-feature sums of the training split for federated statistics. @throws SchemaMismatchError when the data set has none. */
  featureSums(dataset: string): FeatureSums {
    this.checkDataset(dataset);
    if (!this.data.site.sums) throw new SchemaMismatchError(`data set ${this.dataset} does not provide federated statistics`);
    return this.data.site.sums;
  }

  /**
   * Trains the global model on the local training split. `received` holds the global weights, and
   * for SCAFFOLD the server control variate c after them; `control` is this node's c_i (zeros when
   * absent). SCAFFOLD adds c − c_i to every gradient and returns Δc_i after the delta.
   */
  async train(task: TrainTaskBody, received: readonly WeightTensor[], control: readonly WeightTensor[] | null = null): Promise<LocalTrainingResult> {
    this.checkDataset(task.dataset);
    const splits = this.splits(task.statistics);
    const started = performance.now();
    const model = this.build(task);
    try {
      const layers = model.getWeights().length;
      const scaffold = task.strategy === 'scaffold';
      if (received.length !== layers * (scaffold ? 2 : 1)) {
        throw new SchemaMismatchError(`the task carries ${received.length} tensors; a ${task.strategy ?? 'fedavg'} task for this model carries ${layers * (scaffold ? 2 : 1)}`);
      }
      this.fit(() => model.setWeights(received.slice(0, layers)), 'the received weights do not fit the model');
      const before = model.getWeights();
      const c = scaffold ? received.slice(layers) : [];
      const ci = scaffold ? (control ?? before.map((w) => ({ shape: w.shape, data: new Float32Array(w.data.length) }))) : [];
      const gradientCorrection = scaffold ? c.map((layer, i) => ({ shape: layer.shape, data: layer.data.map((v, j) => v - ci[i].data[j]) })) : undefined;
      const outcome = await this.fitAsync(
        () =>
          model.train(splits.train, task.training, seedFrom(`${task.studyId}/${task.round}/${this.nodeName}`), {
            gradientCorrection,
            // Decided by the approved manifest (checked against the task before it got here), not by a wire field.
            generatorOnly: isGeneratorRound(task.manifest.spec, task.round),
          }),
        'the model does not fit the local data',
      );
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

  /** Evaluates a global model on the validation and test splits; only aggregates over ≥ minCohortSize patients leave. */
  async evaluate(task: EvaluateTaskBody, globalWeights: readonly WeightTensor[], minCohortSize: number): Promise<EvaluateResultBody> {
    this.checkDataset(task.dataset);
    const splits = this.splits(task.statistics);
    const base = { studyId: task.studyId, round: task.round, modelVersion: task.modelVersion };
    const model = this.build(task);
    try {
      this.fit(() => model.setWeights(globalWeights), 'the received weights do not fit the model');
      const spec = task.manifest.spec;
      const context = { studyId: task.studyId, round: task.round, finalRound: task.round >= totalRounds(spec), seed: spec.seed, syntheticEvaluation: spec.syntheticEvaluation };
      return { ...base, ...(await this.fitAsync(() => evaluateSite(model, this.data.dataset, splits, context, minCohortSize), 'the model does not fit the local data')) };
    } finally {
      model.dispose();
    }
  }

  private build(task: Pick<TrainTaskBody, 'model'>) {
    try {
      return createModel(task.model, 0);
    } catch (err) {
      throw new SchemaMismatchError(`the task's model cannot be built here: ${(err as Error).message}`);
    }
  }

  /** Shape checks of the models throw RangeError: to the coordinator that is a schema mismatch, not an internal error. */
  private fit<T>(act: () => T, what: string): T {
    try {
      return act();
    } catch (err) {
      if (err instanceof RangeError) throw new SchemaMismatchError(`${what}: ${err.message}`);
      throw err;
    }
  }

  private async fitAsync<T>(act: () => Promise<T>, what: string): Promise<T> {
    try {
      return await act();
    } catch (err) {
      if (err instanceof RangeError) throw new SchemaMismatchError(`${what}: ${err.message}`);
      throw err;
    }
  }

  private checkDataset(dataset: string): void {
    if (dataset !== this.dataset) {
      throw new SchemaMismatchError(`the task is for data set ${dataset}; this node holds ${this.dataset}`);
    }
  }

  /** The model-ready splits for these statistics; prepared once per distinct statistics. */
  private splits(statistics: FeatureStatistics | undefined): SiteSplits {
    const key = statistics ? JSON.stringify(statistics) : 'local';
    if (this.prepared?.key !== key) {
      this.prepared = { key, splits: this.data.site.prepare(statistics ?? null) };
    }
    return this.prepared.splits;
  }
}
