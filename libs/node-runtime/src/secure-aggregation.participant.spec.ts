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
function setup(online: () => boolean = () => true) {
  const { siteIds, keys } = identifiedSites(3);
  const params = { session: 1, siteIds, threshold: 2, clipRange: 1, maxWeight: 100 };
  const task = { studyId: STUDY, round: 1, modelVersion: 0, deadlineAt: Date.now() + 60_000, secagg: params } as unknown as TrainTaskBody;
  const outbox = new Map<string, { step: SecAggUpStep; payload: string }[]>(siteIds.map((id) => [id, []]));
  const aborts: SecAggAbort[] = [];
  const participants = siteIds.map(
    (id) =>
      new SecureAggregationParticipant(
        (_task, step, payload) => {
          if (!online()) return false;
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
  const sent = (i: number) => outbox.get(siteIds[i]) ?? [];
  return { siteIds, participants, server, signatures, down, last, sentSteps, sent, aborts, task, routed, request };
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

describe('SecureAggregationParticipant after a lost connection', () => {
  it('answers a step sent again with the bytes it sent before, never a recomputed answer', () => {
    // Arrange: every site has signed; site 0's signature is what the coordinator lost.
    const f = setup();
    const before = f.sent(0).length;
    const otherSet = { ...f.request, survivors: f.request.survivors.slice(0, 2) };
    // Act: the same step again, once as it was and once with another survivor set.
    f.down(0, 'unmask-request', f.request);
    f.down(0, 'unmask-request', otherSet);
    // Assert: two more copies of the first signature; no signature over another set ever leaves.
    const repeats = f.sent(0).slice(before);
    expect(repeats.map((m) => m.step)).toEqual(['consistency', 'consistency']);
    expect(repeats.every((m) => m.payload === f.sent(0)[before - 1].payload)).toBe(true);
    expect(decodeSecAggPayload<ConsistencySignature>(repeats[1].payload).survivors).toEqual(f.request.survivors);
  });

  it('refuses a step older than the last it answered, and sends nothing for it', () => {
    const f = setup();
    const before = f.sent(1).length;
    // Act: the routed shares again, after the node has moved on to the consistency check.
    expect(() => f.down(1, 'routed-shares', f.routed.get(f.siteIds[1]) ?? [])).toThrow(/BAD_STATE/);
    // Assert: no second masked input (nor anything else) left.
    expect(f.sent(1)).toHaveLength(before);
  });

  it('keeps a step it could not send (offline) and sends it when the coordinator asks again', () => {
    // Arrange: the node goes offline just before its signature leaves.
    let online = true;
    const f = setup(() => online);
    const signed = f.sent(2).filter((m) => m.step === 'consistency').length;
    online = false;
    f.down(2, 'unmask-request', f.request);
    expect(f.sent(2).filter((m) => m.step === 'consistency')).toHaveLength(signed);
    // Act: back online, the coordinator asks again.
    online = true;
    f.down(2, 'unmask-request', f.request);
    // Assert
    expect(f.sent(2).filter((m) => m.step === 'consistency')).toHaveLength(signed + 1);
  });

  it('does not start the session over for a train task sent again, and re-sends its keys if they were its last step', () => {
    // Arrange: a node that has advertised and gone no further.
    const outbox: SecAggUpStep[] = [];
    const { siteIds } = identifiedSites(3);
    const params = { session: 1, siteIds, threshold: 2, clipRange: 1, maxWeight: 100 };
    const task = { studyId: STUDY, round: 4, modelVersion: 0, deadlineAt: Date.now() + 60_000, secagg: params } as unknown as TrainTaskBody;
    const p = new SecureAggregationParticipant((_t, step) => (outbox.push(step), true), new MemoryLogger(), () => siteIds[0]);
    expect(p.repeatTask(task)).toBe(false);
    p.begin(task, [{ shape: [2], data: new Float32Array([0.1, 0.2]) }], 5);
    // Act / Assert
    expect(p.repeatTask(task)).toBe(true);
    expect(outbox).toEqual(['advertise', 'advertise']);
    // A task of another session is not this one.
    expect(p.repeatTask({ ...task, secagg: { ...params, session: 2 } } as TrainTaskBody)).toBe(false);
  });
});
