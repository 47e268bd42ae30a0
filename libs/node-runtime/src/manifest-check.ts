import { isDeepStrictEqual } from 'node:util';
import { EvaluateTaskBody, StatisticsTaskBody, StudyManifest, TrainTaskBody, manifestSha256, totalRounds, trainingForRound } from '@medfed/protocol';
import { AutoApprovePolicy } from './node-config';

/** Why a task's manifest does or does not let it run. */
export interface ManifestDecision {
  allowed: boolean;
  manifestSha256: string;
  /** True when the local auto-approval policy, not an operator, approved it just now. */
  approvedByPolicy: boolean;
  detail: string;
}

/** Whether a task does exactly what its manifest says (a task may not stray from what was approved). */
export function taskMatchesManifest(task: TrainTaskBody | EvaluateTaskBody | StatisticsTaskBody, manifest: StudyManifest): string | null {
  const spec = manifest.spec;
  if (task.studyId !== manifest.studyId) return 'the task is for another study than its manifest';
  if (task.dataset !== spec.dataset) return 'the task names another data set than its manifest';
  if (!('model' in task)) {
    // A statistics task asks for sums of the training split: only studies whose manifest says so may.
    return spec.preprocessing?.federatedStatistics ? null : 'the manifest does not ask for federated statistics';
  }
  if (!isDeepStrictEqual(task.model, spec.model)) return 'the task carries another model than its manifest';
  if (task.round > totalRounds(spec)) return `round ${task.round} is beyond the manifest's ${totalRounds(spec)} rounds`;
  if ('training' in task) {
    // In a generator phase the manifest's phase settings decide the round's steps and batch.
    if (!isDeepStrictEqual(task.training, trainingForRound(spec, task.round))) return 'the task trains differently from its manifest';
    if ((task.strategy ?? 'fedavg') !== spec.strategy) return 'the task uses another strategy than its manifest';
  }
  return null;
}

/** Whether the hospital's own auto-approval rule covers this manifest. */
export function policyApproves(policy: AutoApprovePolicy | null, manifest: StudyManifest): boolean {
  if (!policy) return false;
  const spec = manifest.spec;
  return (
    policy.datasets.includes(spec.dataset) &&
    policy.modelFamilies.includes(spec.model.family) &&
    policy.strategies.includes(spec.strategy) &&
    totalRounds(spec) <= policy.maxRounds &&
    spec.training.localSteps <= policy.maxLocalSteps &&
    (spec.generatorPhase?.localSteps ?? 0) <= policy.maxLocalSteps
  );
}

/**
 * Decides whether a task may run: it must match its manifest, and the manifest's exact hash must
 * be approved by the operator — or covered by the local auto-approval policy, if the hospital set one.
 */
export function checkManifest(
  task: TrainTaskBody | EvaluateTaskBody | StatisticsTaskBody,
  isApproved: (sha: string) => boolean,
  autoApprove: AutoApprovePolicy | null,
): ManifestDecision {
  const sha = manifestSha256(task.manifest);
  const mismatch = taskMatchesManifest(task, task.manifest);
  if (mismatch) return { allowed: false, manifestSha256: sha, approvedByPolicy: false, detail: mismatch };
  if (isApproved(sha)) return { allowed: true, manifestSha256: sha, approvedByPolicy: false, detail: 'approved' };
  if (policyApproves(autoApprove, task.manifest)) return { allowed: true, manifestSha256: sha, approvedByPolicy: true, detail: 'approved by local policy' };
  return { allowed: false, manifestSha256: sha, approvedByPolicy: false, detail: `manifest ${sha.slice(0, 16)}… is not approved at this node` };
}
