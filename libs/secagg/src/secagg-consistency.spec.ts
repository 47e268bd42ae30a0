import { generateIdentity, generateX25519KeyPair, nodeSigner, SigningKeyPair } from '@medfed/crypto';
import { quantizationErrorBound } from './quantize.util';
import { consistencyMessage } from './secagg-protocol.util';
import { SecAggClient } from './secagg.client';
import { SecAggError } from './secagg.error';
import { SecAggServer } from './secagg.server';
import type { ConsistencySignature, SecAggParams, UnmaskRequest } from './secagg.types';
import { DropPoint, identifiedSites, runSecAggRound, seededRandomBytes } from './testing';

const LENGTH = 40;

/** Deterministic uniform floats in [−scale, scale) (mulberry32). */
function uniformVector(seed: number, n: number, scale: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1) * scale;
  });
}

interface Federation {
  params: SecAggParams;
  siteIds: string[];
  keys: Map<string, SigningKeyPair>;
  clients: SecAggClient[];
  inputs: Map<string, { vector: Float32Array; weight: number }>;
}

function federation(n: number, threshold: number, round = 1, session = 1): Federation {
  const { siteIds, keys } = identifiedSites(n);
  const params: SecAggParams = { studyId: 'study-c', round, session, siteIds, threshold, vectorLength: LENGTH, clipRange: 1, maxWeight: 1000 };
  const clients = siteIds.map((id) => new SecAggClient(params, id, seededRandomBytes(`c/${id}`), { signing: keys.get(id) as SigningKeyPair }));
  const inputs = new Map(siteIds.map((id, s) => [id, { vector: uniformVector(11 + s, LENGTH, 0.5), weight: 10 * (s + 1) }]));
  return { params, siteIds, keys, clients, inputs };
}

/** Runs rounds 0–2 honestly through a real server (every site masks); returns the honest unmask request. */
function throughMasking(f: Federation): { server: SecAggServer; request: UnmaskRequest } {
  const server = new SecAggServer(f.params, { consistencyCheck: true });
  for (const c of f.clients) server.collectAdvertise(c.advertiseKeys());
  const announced = server.advertisedKeys();
  for (const c of f.clients) server.collectShares(c.shareKeys(announced));
  const routed = server.routeShares();
  for (const c of f.clients) {
    const input = f.inputs.get(c.siteId) as { vector: Float32Array; weight: number };
    server.collectMasked(c.maskedInput(input.vector, input.weight, routed.get(c.siteId) ?? []));
  }
  return { server, request: server.unmaskRequest() };
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof SecAggError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('consistency check (Bonawitz et al. 2017, malicious-server variant)', () => {
  describe('a coordinator that tells different sites different survivor sets', () => {
    // Five sites, t = 3. The server wants site 0's update alone: it tells sites 0–2 that everyone
    // survived (so they reveal shares of b_0) and sites 3–4 that site 0 dropped (so they would
    // reveal shares of s_0^SK, which remove site 0's pairwise masks).
    function lie(f: Federation) {
      const honest = throughMasking(f).request;
      const target = f.siteIds[0];
      const told = new Map<string, UnmaskRequest>();
      f.siteIds.forEach((id, i) => {
        told.set(id, i < 3 ? honest : { ...honest, survivors: honest.survivors.filter((s) => s !== target), dropped: [target] });
      });
      const signatures = f.clients.map((c) => c.signSurvivors(told.get(c.siteId) as UnmaskRequest));
      return { target, signatures };
    }

    it('is caught by the sites told the smaller set: fewer than t signatures of their U3, they abort and reveal no key share', () => {
      // Arrange
      const f = federation(5, 3);
      const { signatures } = lie(f);
      const [groupA, groupB] = [signatures.slice(0, 3), signatures.slice(3)];
      // Act: each group is shown only the signatures that match what it was told.
      const revealedA = f.clients.slice(0, 3).map((c) => c.unmaskConsistent(groupA));
      const codesB = f.clients.slice(3).map((c) => codeOf(() => c.unmaskConsistent(groupB)));
      // Assert
      expect(codesB).toEqual(['BELOW_THRESHOLD', 'BELOW_THRESHOLD']);
      for (const c of f.clients.slice(3)) {
        expect(c.phase).toBe('aborted');
        expect(c.abortReason).toMatch(/2 sites signed the survivor set, threshold is 3/);
        // Aborted for good: asking again reveals nothing either.
        expect(codeOf(() => c.unmaskConsistent(signatures))).toBe('BAD_STATE');
      }
      // The server got b-shares of site 0 but not one share of its masking key: it cannot unmask it.
      expect(revealedA.flatMap((r) => r.keyShares)).toHaveLength(0);
    });

    it('is caught by every site when the server forwards all signatures: two survivor sets → INCONSISTENT, nothing revealed', () => {
      // Arrange
      const f = federation(5, 3);
      const { signatures } = lie(f);
      // Act
      const codes = f.clients.map((c) => codeOf(() => c.unmaskConsistent(signatures)));
      // Assert
      expect(codes).toEqual(['INCONSISTENT', 'INCONSISTENT', 'INCONSISTENT', 'INCONSISTENT', 'INCONSISTENT']);
      for (const c of f.clients) expect(c.abortReason).toMatch(/different survivor sets/);
    });

    it('is caught when it relabels the other group’s signatures with the smaller set: BAD_SIGNATURE', () => {
      // Arrange
      const f = federation(5, 3);
      const { signatures } = lie(f);
      const toldB = signatures[3].survivors;
      const relabelled = signatures.map((s) => ({ ...s, survivors: [...toldB] }));
      // (Site 0's genuine signature over the full set, relabelled, comes first: it fails to verify.)
      // Act
      const codes = f.clients.slice(3).map((c) => codeOf(() => c.unmaskConsistent(relabelled)));
      // Assert
      expect(codes).toEqual(['BAD_SIGNATURE', 'BAD_SIGNATURE']);
    });

    it('the honest server refuses a signature over another survivor set', () => {
      // Arrange
      const f = federation(5, 3);
      const { server, request } = throughMasking(f);
      const liar = { ...request, survivors: request.survivors.slice(1), dropped: [request.survivors[0]] };
      // Act
      const signature = f.clients[3].signSurvivors(liar);
      // Assert
      expect(codeOf(() => server.collectSignature(signature))).toBe('INCONSISTENT');
    });
  });

  describe('the honest path', () => {
    it.each<[string, number, DropPoint | null]>([
      ['no dropout', -1, null],
      ['one site dropping after sharing its keys (its pairwise masks are removed)', 1, 'afterShares'],
      ['one site dropping after its masked input, before signing (its self mask is removed)', 2, 'afterMasked'],
    ])('recovers the weighted sum with %s', (_label, dropIndex, dropPoint) => {
      // Arrange
      const f = federation(5, 3);
      const dropped = dropIndex >= 0 ? f.siteIds[dropIndex] : null;
      const drops = new Map<string, DropPoint>(dropped && dropPoint ? [[dropped, dropPoint]] : []);
      const summed = f.siteIds.filter((id) => !(dropped && dropPoint === 'afterShares' && id === dropped));
      // Act
      const result = runSecAggRound(f.params, f.inputs, { drops, identities: f.keys });
      // Assert: against the float64 weighted sum of the sites whose masked input counted.
      const bound = quantizationErrorBound(1 * 1000, 5, 32, summed.length) + 1e-5;
      let weightSum = 0;
      for (const id of summed) weightSum += (f.inputs.get(id) as { weight: number }).weight;
      expect(result.weightSum).toBeCloseTo(weightSum, 3);
      for (let i = 0; i < LENGTH; i++) {
        let expected = 0;
        for (const id of summed) expected += (f.inputs.get(id) as { vector: Float32Array }).vector[i] * (f.inputs.get(id) as { weight: number }).weight;
        expect(Math.abs(result.sum[i] - expected)).toBeLessThanOrEqual(bound + Math.abs(expected) * 1e-6);
      }
      expect(result.survivors).toEqual(dropPoint === 'afterShares' ? summed : f.siteIds);
    });

    it('a site with an identity never reveals through the semi-honest unmask', () => {
      // Arrange
      const f = federation(3, 2);
      const { request } = throughMasking(f);
      // Act / Assert
      expect(codeOf(() => f.clients[0].unmask(request.survivors, request.dropped))).toBe('BAD_STATE');
    });
  });

  describe('forged and misplaced signatures are refused', () => {
    function signed(f: Federation) {
      const { server, request } = throughMasking(f);
      const signatures = f.clients.map((c) => c.signSurvivors(request));
      return { server, request, signatures };
    }

    it.each<[string, (s: ConsistencySignature, f: Federation) => ConsistencySignature, string]>([
      ['a flipped signature bit', (s) => ({ ...s, signature: Uint8Array.from(s.signature, (b, i) => (i === 5 ? b ^ 1 : b)) }), 'BAD_SIGNATURE'],
      [
        'a signature by another key under the site’s name',
        (s, f) => {
          const mallory = generateIdentity().signing;
          return { ...s, publicKey: mallory.publicKey, signature: nodeSigner.sign(consistencyMessage(f.params.studyId, 1, 1, s.survivors), mallory.secretKey) };
        },
        'BAD_SIGNATURE',
      ],
      [
        'another site’s genuine signature relabelled',
        (s, f) => ({ ...s, siteId: f.siteIds.find((id) => id !== s.siteId && id !== f.siteIds[0]) as string }),
        'BAD_SIGNATURE',
      ],
      [
        'a genuine signature made for round 2, presented as round 1',
        (s, f) => ({ ...s, signature: nodeSigner.sign(consistencyMessage(f.params.studyId, 2, 1, s.survivors), f.keys.get(s.siteId)?.secretKey as Uint8Array) }),
        'BAD_SIGNATURE',
      ],
      ['a signature message of round 2', (s) => ({ ...s, round: 2 }), 'WRONG_ROUND'],
      [
        'a genuine signature of an earlier session of the round',
        (s, f) => ({ ...s, session: 2, signature: nodeSigner.sign(consistencyMessage(f.params.studyId, 1, 2, s.survivors), f.keys.get(s.siteId)?.secretKey as Uint8Array) }),
        'WRONG_ROUND',
      ],
    ])('%s', (_label, tamper, code) => {
      // Arrange
      const f = federation(4, 3);
      const { server, signatures } = signed(f);
      const bad = tamper(signatures[1], f);
      const forwarded = [signatures[0], bad, signatures[2], signatures[3]];
      // Act
      const clientCode = codeOf(() => f.clients[0].unmaskConsistent(forwarded));
      const serverCode = codeOf(() => server.collectSignature(bad));
      // Assert: the site aborts (nothing revealed) and the honest server refuses it too.
      expect(clientCode).toBe(code);
      expect(f.clients[0].phase).toBe('aborted');
      expect(serverCode).toBe(code);
    });

    it('the genuine signatures pass: the same sites unmask once the forgery is left out', () => {
      // Arrange
      const f = federation(4, 3);
      const { server, signatures } = signed(f);
      for (const s of signatures) server.collectSignature(s);
      // Act
      const forwarded = server.forwardSignatures();
      const responses = f.clients.map((c) => c.unmaskConsistent(forwarded));
      // Assert
      expect(responses.map((r) => r.selfMaskShares.length)).toEqual([4, 4, 4, 4]);
      expect(server.finish(responses).survivors).toEqual(f.siteIds);
    });

    it('a signer outside the survivor set, or a second signature from one site, is refused', () => {
      // Arrange
      const f = federation(4, 3);
      const { signatures } = signed(f);
      // A genuine key and signature over the same U3, from a site that is not in it.
      const stranger = identifiedSites(1);
      const strangerId = stranger.siteIds[0];
      const strangerKey = stranger.keys.get(strangerId) as SigningKeyPair;
      const outsider = {
        ...signatures[1],
        siteId: strangerId,
        publicKey: strangerKey.publicKey,
        signature: nodeSigner.sign(consistencyMessage(f.params.studyId, 1, 1, signatures[1].survivors), strangerKey.secretKey),
      };
      // Act / Assert
      expect(codeOf(() => f.clients[0].unmaskConsistent([signatures[0], outsider, signatures[2]]))).toBe('UNKNOWN_SITE');
      expect(codeOf(() => f.clients[1].unmaskConsistent([signatures[0], signatures[2], signatures[2], signatures[3]]))).toBe('DUPLICATE');
    });

    it('fewer than t signatures at the server aborts the round there', () => {
      // Arrange
      const f = federation(4, 3);
      const { server, signatures } = signed(f);
      server.collectSignature(signatures[0]);
      server.collectSignature(signatures[1]);
      // Act / Assert
      expect(codeOf(() => server.forwardSignatures())).toBe('BELOW_THRESHOLD');
      expect(server.phase).toBe('aborted');
    });
  });

  describe('signed round-0 keys (so the server cannot have the shares encrypted to itself)', () => {
    function advertised(f: Federation) {
      const server = new SecAggServer(f.params, { consistencyCheck: true });
      const keys = f.clients.map((c) => c.advertiseKeys());
      for (const k of keys) server.collectAdvertise(k);
      return { server, keys, announced: server.advertisedKeys() };
    }

    it('the genuine signed keys are accepted and every site shares', () => {
      // Arrange
      const f = federation(4, 3);
      const { announced } = advertised(f);
      // Act
      const batches = f.clients.map((c) => c.shareKeys(announced));
      // Assert
      expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 3]);
      expect(announced.every((a) => a.signature?.length === 64)).toBe(true);
    });

    it.each<[string, (a: ReturnType<SecAggClient['advertiseKeys']>, f: Federation) => ReturnType<SecAggClient['advertiseKeys']>]>([
      ['keys swapped for the server’s own, signature kept', (a) => ({ ...a, encryptionPublicKey: generateX25519KeyPair().publicKey })],
      ['the signature removed', (a) => ({ ...a, identityKey: undefined, signature: undefined })],
      [
        'keys signed by the server’s own key under the site’s name',
        (a, f) => {
          const mallory = generateIdentity().signing;
          return new SecAggClient(f.params, a.siteId, undefined, { signing: mallory, isKeyOf: () => true }).advertiseKeys();
        },
      ],
    ])('a site refuses %s (BAD_SIGNATURE), before sending any share', (_label, tamper) => {
      // Arrange
      const f = federation(4, 3);
      const { announced } = advertised(f);
      const substituted = announced.map((a, i) => (i === 1 ? tamper(a, f) : a));
      // Act / Assert
      expect(codeOf(() => f.clients[0].shareKeys(substituted))).toBe('BAD_SIGNATURE');
    });

    it('the honest server refuses unsigned keys in the malicious-server variant', () => {
      // Arrange
      const f = federation(3, 2);
      const server = new SecAggServer(f.params, { consistencyCheck: true });
      const plain = new SecAggClient(f.params, f.siteIds[0]).advertiseKeys();
      // Act / Assert
      expect(codeOf(() => server.collectAdvertise(plain))).toBe('BAD_SIGNATURE');
    });
  });
});
