import { ED25519_PUBLIC_KEY_BYTES, defaultSigner, fromBase64 } from '@medfed/crypto';
import { StudyManifest, manifestSha256, totalRounds, validateStudySpec } from '@medfed/protocol';
import { ApprovalRecord, ApprovalsFileError, ManifestApprovals } from './manifest-approvals.store';
import { PrivacyAccountant } from '@medfed/privacy';
import { LocalPolicy } from './node-config';

/** The total ε a manifest promises, as a node accounts it (RDP, every site in every round of both phases, the node's δ); null without DP. */
export function promisedEpsilon(manifest: StudyManifest, delta: number): number | null {
  const dp = manifest.spec.dp;
  if (!dp) return null;
  return new PrivacyAccountant({ noiseMultiplier: dp.noiseMultiplier, clipNorm: dp.clipNorm, samplingRate: 1, delta, rounds: totalRounds(manifest.spec), noisePlacement: dp.placement }).totalEpsilon();
}

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
export function approveSignedManifest(
  approvals: ManifestApprovals,
  signed: SignedManifestFile,
  coordinatorSigningKey: string,
  by: string,
  policy?: Pick<LocalPolicy, 'privacy'>,
): ApprovalRecord {
  validateStudySpec(signed.manifest?.spec);
  if (policy) {
    // The promised budget is checked before approval: a manifest this node would refuse to run is not approved.
    const eps = promisedEpsilon(signed.manifest, policy.privacy.delta);
    if (eps !== null && !(eps <= policy.privacy.maxEpsilonPerStudy)) {
      throw new ApprovalsFileError(`manifest promises ε=${eps.toFixed(3)}, above this node's per-study limit of ${policy.privacy.maxEpsilonPerStudy}`);
    }
  }
  const sha = manifestSha256(signed.manifest);
  if (sha !== signed.sha256) throw new ApprovalsFileError(`the manifest's hash is ${sha}, not the ${signed.sha256} it claims`);
  const ok = defaultSigner.verify(Buffer.from(sha, 'hex'), fromBase64(signed.signature, 64), fromBase64(coordinatorSigningKey, ED25519_PUBLIC_KEY_BYTES));
  if (!ok) throw new ApprovalsFileError(`manifest ${sha} is not signed by the pinned coordinator key`);
  return approvals.approve(signed.manifest, by);
}

/** A model's family-specific settings as `name value` pairs in the manifest's order; lists are joined with '-'. */
function describeArchitecture(architecture: NonNullable<StudyManifest['spec']['model']['architecture']>): string {
  return Object.entries(architecture)
    .map(([name, value]) => `${name} ${Array.isArray(value) ? value.join('-') : String(value)}`)
    .join(', ');
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
    ...(s.model.architecture && Object.keys(s.model.architecture).length > 0 ? [`  layers     ${describeArchitecture(s.model.architecture)}`] : []),
    `  training   ${t.localSteps} local steps of batch ${t.batchSize} per round, ${t.optimizer} lr ${t.learningRate}, L2 ${t.l2}, FedProx μ ${t.proximalMu}`,
    `  strategy   ${s.strategy}${s.strategyConfig ? ` ${JSON.stringify(s.strategyConfig)}` : ''}`,
    `  privacy    ${s.secureAggregation ? `secure aggregation (clip ±${s.secureAggregation.clipRange}${s.secureAggregation.threshold ? `, t = ${s.secureAggregation.threshold}` : ''})` : 'no secure aggregation'}; ${s.dp ? `DP noise ×${s.dp.noiseMultiplier}, clip ${s.dp.clipNorm}, ${s.dp.placement}, ε ≈ ${promisedEpsilon(manifest, 1e-5)?.toFixed(3)} at δ = 1e-5` : 'no differential privacy'}`,
    `  rounds     ${s.rounds} (at least ${s.minSites} sites, ${s.roundTimeoutSeconds} s per round${s.siteFraction ? `, ${s.siteFraction * 100}% of sites sampled` : ''})`,
    ...(s.generatorPhase
      ? [
          `  generator  then ${s.generatorPhase.rounds} more rounds from the chosen version that train only the generator: ${s.generatorPhase.localSteps} GAN steps of batch ${s.generatorPhase.batchSize ?? t.batchSize} per round; each sends a weight delta like the rounds above`,
        ]
      : []),
    `  leaves     per round: the weight delta${s.strategy === 'scaffold' ? ' and the control-variate delta' : ''} (sealed to the coordinator), the number of training examples and mean loss;`,
    `             per evaluation: confusion counts and loss sum on the test split, or only the count below the node's minimum cohort`,
    ...(s.syntheticEvaluation
      ? [`  synthetic  at the final evaluation, a classifier trained here on ${s.syntheticEvaluation.samples} examples drawn from the global generator, ${s.syntheticEvaluation.steps} steps; only its score histograms leave`]
      : []),
  ].join('\n');
}
