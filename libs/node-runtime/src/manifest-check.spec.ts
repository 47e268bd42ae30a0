import { StudySpec, TrainTaskBody, studyManifest } from '@medfed/protocol';
import { sampleStudySpec } from '@medfed/protocol/testing';
import { policyApproves, taskMatchesManifest } from './manifest-check';

/** A cgan study of 3 main rounds of 40 steps and a 2-round generator phase of 50 steps of batch 16. */
const spec: StudySpec = {
  ...sampleStudySpec(),
  model: { family: 'cgan', inputDim: 16, outputs: 3 },
  training: { ...sampleStudySpec().training, localSteps: 40 },
  rounds: 3,
  generatorPhase: { rounds: 2, localSteps: 50, batchSize: 16 },
};
const manifest = studyManifest('s1', spec);
const phaseTraining = { ...spec.training, localSteps: 50, batchSize: 16 };

function task(round: number, training = spec.training): TrainTaskBody {
  return { studyId: 's1', round, modelVersion: round - 1, dataset: spec.dataset, model: spec.model, training, deadlineAt: Date.now() + 60_000, strategy: spec.strategy, manifest };
}

describe('a task against its manifest, with a generator phase', () => {
  it("accepts the main rounds with the study's training and the phase's rounds with the phase's steps and batch", () => {
    expect(taskMatchesManifest(task(3), manifest)).toBeNull();
    expect(taskMatchesManifest(task(4, phaseTraining), manifest)).toBeNull();
    expect(taskMatchesManifest(task(5, phaseTraining), manifest)).toBeNull();
  });

  it('refuses a round that trains otherwise than its phase says, and a round beyond both phases', () => {
    expect(taskMatchesManifest(task(3, phaseTraining), manifest)).toBe('the task trains differently from its manifest');
    expect(taskMatchesManifest(task(4), manifest)).toBe('the task trains differently from its manifest');
    expect(taskMatchesManifest(task(6, phaseTraining), manifest)).toBe("round 6 is beyond the manifest's 5 rounds");
  });

  it("lets the local auto-approval rule count the phase's rounds and steps", () => {
    const rule = { datasets: [spec.dataset], modelFamilies: [spec.model.family], strategies: [spec.strategy], maxRounds: 5, maxLocalSteps: 50 };
    expect(policyApproves(rule, manifest)).toBe(true);
    expect(policyApproves({ ...rule, maxRounds: 4 }, manifest)).toBe(false);
    expect(policyApproves({ ...rule, maxLocalSteps: 49 }, manifest)).toBe(false);
  });
});
