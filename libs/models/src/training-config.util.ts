import type { TrainingConfig } from '@medfed/protocol';

/**
 * Checks a study's TrainingConfig before any model trains with it: positive integer steps and batch size,
 * a positive finite learning rate, non-negative l2 and proximal μ, a known optimizer.
 * @throws RangeError listing every bad field.
 */
export function validateTrainingConfig(config: TrainingConfig): void {
  const problems: string[] = [];
  if (!Number.isInteger(config.localSteps) || config.localSteps < 1) problems.push(`localSteps ${config.localSteps}`);
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1) problems.push(`batchSize ${config.batchSize}`);
  if (!(config.learningRate > 0) || !Number.isFinite(config.learningRate)) problems.push(`learningRate ${config.learningRate}`);
  if (!(config.l2 >= 0) || !Number.isFinite(config.l2)) problems.push(`l2 ${config.l2}`);
  if (!(config.proximalMu >= 0) || !Number.isFinite(config.proximalMu)) problems.push(`proximalMu ${config.proximalMu}`);
  if (config.optimizer !== 'sgd' && config.optimizer !== 'adam') problems.push(`optimizer '${String(config.optimizer)}'`);
  if (problems.length > 0) throw new RangeError(`invalid training config: ${problems.join(', ')}`);
}

/** A generator-phase round (TrainOptions.generatorOnly) reached a family without a generator. @throws RangeError. */
export function refuseGeneratorOnly(family: string, options: { generatorOnly?: boolean } | undefined): void {
  if (options?.generatorOnly) throw new RangeError(`${family}: the model has no generator to train alone (generatorOnly is for the cgan family)`);
}
