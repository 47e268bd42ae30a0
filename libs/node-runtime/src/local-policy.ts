import { EvaluateTaskBody, TaskDeclinedBody, TrainTaskBody } from '@medfed/protocol';
import { LocalPolicy } from './node-config';

/** Why this node will not run a task; the reason code is all the coordinator learns. */
export interface PolicyDecision {
  allowed: boolean;
  reason: TaskDeclinedBody['reason'] | null;
  /** For the node's own log only. */
  detail: string;
}

const ALLOW: PolicyDecision = { allowed: true, reason: null, detail: 'allowed' };

/** Checks a task against the hospital's local policy before any data is touched. */
export function checkTask(policy: LocalPolicy, task: TrainTaskBody | EvaluateTaskBody, now: number): PolicyDecision {
  if (!policy.allowedDatasets.includes(task.dataset)) {
    return { allowed: false, reason: 'not-approved', detail: `data set ${task.dataset} is not allowed by local policy` };
  }
  if (!policy.allowedModelFamilies.includes(task.model.family)) {
    return { allowed: false, reason: 'not-approved', detail: `model family ${task.model.family} is not allowed by local policy` };
  }
  if ('training' in task) {
    if (task.training.localSteps > policy.maxLocalSteps) {
      return { allowed: false, reason: 'not-approved', detail: `${task.training.localSteps} local steps exceed the policy limit of ${policy.maxLocalSteps}` };
    }
    if (task.deadlineAt <= now) {
      return { allowed: false, reason: 'stale-task', detail: `the task's deadline passed ${now - task.deadlineAt} ms ago` };
    }
  }
  return ALLOW;
}
