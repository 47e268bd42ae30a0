import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSigner, generateIdentity, toBase64 } from '@medfed/crypto';
import { StudyManifest, manifestSha256, studyManifest } from '@medfed/protocol';
import { sampleStudySpec } from '@medfed/protocol/testing';
import { approveSignedManifest, describeManifest, promisedEpsilon } from './manifest-approval';
import { ManifestApprovals } from './manifest-approvals.store';

const coordinator = generateIdentity();
const key = toBase64(coordinator.signing.publicKey);
const sign = (m: StudyManifest, by = coordinator) => ({
  manifest: m,
  sha256: manifestSha256(m),
  signature: toBase64(defaultSigner.sign(Buffer.from(manifestSha256(m), 'hex'), by.signing.secretKey)),
});
const policy = { privacy: { maxEpsilonPerStudy: 5, maxEpsilonTotal: 10, delta: 1e-5 } };

describe('approving a signed manifest', () => {
  let dir: string;
  let approvals: ManifestApprovals;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-approve-'));
    approvals = new ManifestApprovals(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('approves exactly the manifest the pinned coordinator signed', () => {
    const m = studyManifest('s1', sampleStudySpec());
    const record = approveSignedManifest(approvals, sign(m), key, 'alice', policy);
    expect(record).toMatchObject({ decision: 'approved', by: 'alice', manifestSha256: manifestSha256(m) });
    expect(approvals.isApproved(manifestSha256(m))).toBe(true);
  });

  it('refuses another signer, a hash that is not the manifest’s, and a promise above the local budget', () => {
    const m = studyManifest('s1', sampleStudySpec());
    expect(() => approveSignedManifest(approvals, sign(m, generateIdentity()), key, 'alice')).toThrow('not signed by the pinned coordinator');
    const edited = { ...sign(m), manifest: studyManifest('s1', { ...sampleStudySpec(), rounds: 16 }) };
    expect(() => approveSignedManifest(approvals, edited, key, 'alice')).toThrow('not the');
    const loose = studyManifest('s2', { ...sampleStudySpec(), dp: { noiseMultiplier: 0.5, clipNorm: 1, placement: 'split' } });
    expect(promisedEpsilon(loose, 1e-5)).toBeGreaterThan(5);
    expect(() => approveSignedManifest(approvals, sign(loose), key, 'alice', policy)).toThrow('above this node');
    expect(approvals.decisions()).toHaveLength(0);
  });

  it('describes what runs and what leaves, with the promised ε', () => {
    const m = studyManifest('s3', { ...sampleStudySpec(), dp: { noiseMultiplier: 5, clipNorm: 1, placement: 'split' }, secureAggregation: { clipRange: 10 } });
    const text = describeManifest(m);
    expect(text).toContain(manifestSha256(m));
    expect(text).toContain('secure aggregation');
    expect(text).toMatch(/ε ≈ \d+\.\d{3}/);
    expect(text).not.toContain('synthetic');
  });

  it("lists the model's family-specific settings, so an operator sees e.g. a GAN in a latent space before approving it", () => {
    const spec = sampleStudySpec();
    const plain = describeManifest(studyManifest('s5', spec));
    expect(plain).not.toContain('layers');
    const latent = describeManifest(studyManifest('s6', { ...spec, model: { ...spec.model, architecture: { embeddingDim: 64, generatorHidden: [256, 256], straightThrough: false } } }));
    expect(latent).toContain('  layers     embeddingDim 64, generatorHidden 256-256, straightThrough false');
  });

  it("describes a generator phase and counts its rounds in the promised ε (each of them sends an update)", () => {
    const dp = { noiseMultiplier: 5, clipNorm: 1, placement: 'split' as const };
    const spec = { ...sampleStudySpec(), dp, generatorPhase: { rounds: 10, localSteps: 200, batchSize: 128 } };
    const m = studyManifest('s7', spec);
    expect(describeManifest(m)).toContain('then 10 more rounds from the chosen version that train only the generator: 200 GAN steps of batch 128 per round');
    const withoutPhase = promisedEpsilon(studyManifest('s7', { ...sampleStudySpec(), dp }), 1e-5) as number;
    expect(promisedEpsilon(m, 1e-5)).toBeGreaterThan(withoutPhase);
    expect(promisedEpsilon(m, 1e-5)).toBe(promisedEpsilon(studyManifest('s7', { ...sampleStudySpec(), dp, rounds: spec.rounds + 10 }), 1e-5));
  });

  it('says when the final evaluation trains a classifier on synthetic data at the node', () => {
    const m = studyManifest('s4', { ...sampleStudySpec(), syntheticEvaluation: { samples: 65536, steps: 3000 } });
    expect(describeManifest(m)).toContain('a classifier trained here on 65536 examples drawn from the global generator, 3000 steps');
  });
});
