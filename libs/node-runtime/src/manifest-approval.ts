import { ED25519_PUBLIC_KEY_BYTES, defaultSigner, fromBase64 } from '@medfed/crypto';
import { StudyManifest, manifestSha256, validateStudySpec } from '@medfed/protocol';
import { ApprovalRecord, ApprovalsFileError, ManifestApprovals } from './manifest-approvals.store';

/** A manifest as the coordinator serves it (`medfed study manifest ID`). */
export interface SignedManifestFile {
  manifest: StudyManifest;
  sha256: string;
  signature: string;
}

/**
 * Approves a manifest obtained out of band, after checking that its hash is its own and that the
 * pinned coordinator signed that hash — so the operator approves exactly what the coordinator will run.
 */
export function approveSignedManifest(approvals: ManifestApprovals, signed: SignedManifestFile, coordinatorSigningKey: string, by: string): ApprovalRecord {
  validateStudySpec(signed.manifest?.spec);
  const sha = manifestSha256(signed.manifest);
  if (sha !== signed.sha256) throw new ApprovalsFileError(`the manifest's hash is ${sha}, not the ${signed.sha256} it claims`);
  const ok = defaultSigner.verify(Buffer.from(sha, 'hex'), fromBase64(signed.signature, 64), fromBase64(coordinatorSigningKey, ED25519_PUBLIC_KEY_BYTES));
  if (!ok) throw new ApprovalsFileError(`manifest ${sha} is not signed by the pinned coordinator key`);
  return approvals.approve(signed.manifest, by);
}

/** A manifest for a person: what runs, on what data, for how long, and what leaves. */
export function describeManifest(manifest: StudyManifest): string {
  const s = manifest.spec;
  const t = s.training;
  return [
    `manifest ${manifestSha256(manifest)}`,
    `  study      ${manifest.studyId} (${s.name})`,
    `  data set   ${s.dataset}`,
    `  model      ${s.model.family}, ${s.model.inputDim} inputs${s.model.hidden?.length ? `, hidden ${s.model.hidden.join('-')}` : ''}${s.model.dropout ? `, dropout ${s.model.dropout}` : ''}`,
    `  training   ${t.localSteps} local steps of batch ${t.batchSize} per round, ${t.optimizer} lr ${t.learningRate}, L2 ${t.l2}, FedProx μ ${t.proximalMu}`,
    `  strategy   ${s.strategy}${s.strategyConfig ? ` ${JSON.stringify(s.strategyConfig)}` : ''}`,
    `  rounds     ${s.rounds} (at least ${s.minSites} sites, ${s.roundTimeoutSeconds} s per round${s.siteFraction ? `, ${s.siteFraction * 100}% of sites sampled` : ''})`,
    `  leaves     per round: the weight delta${s.strategy === 'scaffold' ? ' and the control-variate delta' : ''} (sealed to the coordinator), the number of training examples and mean loss;`,
    `             per evaluation: confusion counts and loss sum on the test split, or only the count below the node's minimum cohort`,
  ].join('\n');
}
