import { MemoryLogger } from '@medfed/observability';
import { SecAggDownStep, SecAggStepBody, SecAggUpStep, TrainTaskBody } from '@medfed/protocol';
import {
  AdvertiseKeys,
  ConsistencySignature,
  EncryptedShares,
  MaskedInput,
  SecAggServer,
  UnmaskingShares,
  decodeSecAggPayload,
  encodeSecAggPayload,
} from '@medfed/secagg';
import { identifiedSites } from '@medfed/secagg/testing';
import { SecAggAbort, SecureAggregationParticipant } from './secure-aggregation.participant';

const STUDY = 'study-p';

/** Three nodes with real identity keys, driven by a SecAggServer standing in for the coordinator. */
function setup() {
  const { siteIds, keys } = identifiedSites(3);
  const params = { session: 1, siteIds, threshold: 2, clipRange: 1, maxWeight: 100 };
  const task = { studyId: STUDY, round: 1, modelVersion: 0, deadlineAt: Date.now() + 60_000, secagg: params } as unknown as TrainTaskBody;
  const outbox = new Map<string, { step: SecAggUpStep; payload: string }[]>(siteIds.map((id) => [id, []]));
  const aborts: SecAggAbort[] = [];
  const participants = siteIds.map(
    (id) =>
      new SecureAggregationParticipant(
        (_task, step, payload) => {
          outbox.get(id)?.push({ step, payload });
          return true;
        },
        new MemoryLogger(),
        () => id,
        null,
        Date.now,
        { signing: keys.get(id), onAbort: (a) => aborts.push(a) },
      ),
  );
  const server = new SecAggServer({ studyId: STUDY, round: 1, session: 1, siteIds, threshold: 2, vectorLength: 2, clipRange: 1, maxWeight: 100 }, { consistencyCheck: true });
  const last = <T>(i: number, step: SecAggUpStep): T => {
    const sent = (outbox.get(siteIds[i]) ?? []).filter((m) => m.step === step);
    return decodeSecAggPayload<T>(sent[sent.length - 1].payload);
  };
  const down = (i: number, step: SecAggDownStep, message: unknown): void => {
    const body: SecAggStepBody<SecAggDownStep> = { studyId: STUDY, round: 1, modelVersion: 0, session: 1, step, payload: encodeSecAggPayload(message) };
    participants[i].onDown(body);
  };
  // Rounds 0–2 and the signing, honestly.
  participants.forEach((p, i) => p.begin(task, [{ shape: [2], data: new Float32Array([0.25 * (i + 1), -0.5]) }], 10 * (i + 1)));
  siteIds.forEach((_, i) => server.collectAdvertise(last<AdvertiseKeys>(i, 'advertise')));
  const announced = server.advertisedKeys();
  siteIds.forEach((_, i) => down(i, 'keys', announced));
  siteIds.forEach((_, i) => server.collectShares(last<EncryptedShares[]>(i, 'shares')));
  const routed = server.routeShares();
  siteIds.forEach((id, i) => down(i, 'routed-shares', routed.get(id) ?? []));
  siteIds.forEach((_, i) => server.collectMasked(last<MaskedInput>(i, 'masked')));
  const request = server.unmaskRequest();
  siteIds.forEach((_, i) => down(i, 'unmask-request', request));
  const signatures = siteIds.map((_, i) => last<ConsistencySignature>(i, 'consistency'));
  const sentSteps = (i: number) => (outbox.get(siteIds[i]) ?? []).map((m) => m.step);
  return { siteIds, participants, server, signatures, down, last, sentSteps, aborts };
}

describe('SecureAggregationParticipant with the consistency check', () => {
  it('signs the survivor set instead of unmasking, and unmasks once t signatures of that set arrive', () => {
    // Arrange
    const f = setup();
    for (const s of f.signatures) f.server.collectSignature(s);
    const forwarded = f.server.forwardSignatures();
    // Act
    f.siteIds.forEach((_, i) => f.down(i, 'signatures', forwarded));
    f.siteIds.forEach((_, i) => f.server.collectUnmasking(f.last<UnmaskingShares>(i, 'unmasking')));
    const result = f.server.finish();
    // Assert: Σ w·x₀ = 10·0.25 + 20·0.5 + 30·0.75 = 35, Σ w·x₁ = (10 + 20 + 30)·(−0.5) = −30, Σ w = 60.
    expect(f.sentSteps(0)).toEqual(['advertise', 'shares', 'masked', 'consistency', 'unmasking']);
    expect(result.weightSum).toBeCloseTo(60, 4);
    expect(result.sum[0]).toBeCloseTo(35, 3);
    expect(result.sum[1]).toBeCloseTo(-30, 3);
    expect(f.aborts).toEqual([]);
  });

  it('aborts on a forged signature: sends no shares and records why', () => {
    // Arrange
    const f = setup();
    const forged = { ...f.signatures[1], signature: Uint8Array.from(f.signatures[1].signature, (b, i) => (i === 0 ? b ^ 0x80 : b)) };
    // Act
    f.down(0, 'signatures', [f.signatures[0], forged, f.signatures[2]]);
    // Assert
    expect(f.sentSteps(0)).toEqual(['advertise', 'shares', 'masked', 'consistency']);
    expect(f.aborts).toHaveLength(1);
    expect(f.aborts[0]).toMatchObject({ studyId: STUDY, round: 1, session: 1, code: 'BAD_SIGNATURE' });
    expect(f.participants[0].aborts).toEqual(f.aborts);
  });

  it('aborts when fewer than t sites signed: the coordinator forwarded only this node’s own signature', () => {
    // Arrange
    const f = setup();
    // Act
    f.down(0, 'signatures', [f.signatures[0]]);
    // Assert
    expect(f.sentSteps(0)).not.toContain('unmasking');
    expect(f.aborts.map((a) => a.code)).toEqual(['BELOW_THRESHOLD']);
    expect(f.aborts[0].reason).toMatch(/1 sites signed the survivor set, threshold is 2/);
  });
});
