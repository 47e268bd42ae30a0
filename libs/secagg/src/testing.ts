// Test and benchmark helpers for @medfed/secagg: a seeded randomness source and an in-process driver
// that runs one whole round between SecAggClients and a SecAggServer. Never use the seeded source
// outside tests — its output is predictable by design.
import { expandMask, generateIdentity, keyFingerprint, sha256, SigningKeyPair } from '@medfed/crypto';
import { SecAggClient } from './secagg.client';
import { SecAggServer } from './secagg.server';
import type { RandomBytes } from './shamir.util';
import type { AdvertiseKeys, ConsistencySignature, EncryptedShares, MaskedInput, SecAggParams, SecAggResult, UnmaskingShares } from './secagg.types';

/**
 * A deterministic {@link RandomBytes}: successive calls read AES-256-CTR streams keyed from
 * SHA-256("medfed-secagg-test/" + label), one per call, so the same label gives the same sequence.
 */
export function seededRandomBytes(label: string): RandomBytes {
  const seed = sha256(new TextEncoder().encode(`medfed-secagg-test/${label}`));
  let call = 0;
  return (n: number) => {
    call += 1;
    const words = expandMask(seed, Math.ceil(n / 4), new TextEncoder().encode(`call ${call}`));
    return new Uint8Array(words.buffer, 0, n).slice();
  };
}

/** When a site stops answering in {@link runSecAggRound}: after sending its keys, its shares, or its masked input. */
export type DropPoint = 'afterAdvertise' | 'afterShares' | 'afterMasked';

/** Every message of a round, kept so tests can inspect and tamper, and benchmarks can size them. */
export interface SecAggTranscript {
  advertise: AdvertiseKeys[];
  shares: Map<string, EncryptedShares[]>;
  masked: MaskedInput[];
  /** Consistency signatures, when the round ran the check. */
  signatures?: ConsistencySignature[];
  unmasking: UnmaskingShares[];
}

/** `n` sites with fresh Ed25519 identities, named as medfed names nodes (key fingerprints), sorted. */
export function identifiedSites(n: number): { siteIds: string[]; keys: Map<string, SigningKeyPair> } {
  const keys = new Map<string, SigningKeyPair>();
  for (let i = 0; i < n; i++) {
    const { signing } = generateIdentity();
    keys.set(keyFingerprint(signing.publicKey), signing);
  }
  return { siteIds: [...keys.keys()].sort(), keys };
}

/** Options for {@link runSecAggRound}. */
export interface RunSecAggRoundOptions {
  /** Sites that drop, and when. */
  drops?: ReadonlyMap<string, DropPoint>;
  /** Randomness per site; default a seeded source per site id (deterministic). */
  rngFor?: (siteId: string) => RandomBytes;
  /** Receives every message as it is produced. */
  transcript?: SecAggTranscript;
  /** Use this server (e.g. to inspect it after an abort); default a new one. */
  server?: SecAggServer;
  /**
   * Identity keys by site id: every site then runs the consistency check (malicious-server variant)
   * and the default server does too. Default none: the semi-honest protocol.
   */
  identities?: ReadonlyMap<string, SigningKeyPair>;
}

/**
 * Runs one SecAgg round in process: every site in params.siteIds advertises, shares, masks
 * `inputs.get(site)` and unmasks, except where `drops` says it stops. Throws whatever the protocol throws.
 */
export function runSecAggRound(
  params: SecAggParams,
  inputs: ReadonlyMap<string, { vector: Float32Array; weight: number }>,
  options: RunSecAggRoundOptions = {},
): SecAggResult {
  const drops = options.drops ?? new Map<string, DropPoint>();
  const rngFor = options.rngFor ?? ((siteId: string) => seededRandomBytes(`${params.studyId}/${params.round}/${siteId}`));
  const identities = options.identities;
  const server = options.server ?? new SecAggServer(params, { consistencyCheck: identities !== undefined });
  const clients = params.siteIds.map((id) => {
    const signing = identities?.get(id);
    return new SecAggClient(params, id, rngFor(id), signing ? { signing } : undefined);
  });
  const record = options.transcript;

  for (const client of clients) {
    const message = client.advertiseKeys();
    record?.advertise.push(message);
    server.collectAdvertise(message);
  }
  const announced = server.advertisedKeys();
  const sharing = clients.filter((c) => drops.get(c.siteId) !== 'afterAdvertise' && announced.some((a) => a.siteId === c.siteId));
  for (const client of sharing) {
    const batch = client.shareKeys(announced);
    record?.shares.set(client.siteId, batch);
    server.collectShares(batch);
  }
  const routed = server.routeShares();
  const masking = sharing.filter((c) => drops.get(c.siteId) !== 'afterShares' && routed.has(c.siteId));
  for (const client of masking) {
    const input = inputs.get(client.siteId);
    if (!input) throw new Error(`no input for ${client.siteId}`);
    const message = client.maskedInput(input.vector, input.weight, routed.get(client.siteId) ?? []);
    record?.masked.push(message);
    server.collectMasked(message);
  }
  const request = server.unmaskRequest();
  const unmasking = masking.filter((c) => drops.get(c.siteId) !== 'afterMasked');
  if (identities) {
    for (const client of unmasking) {
      const signature = client.signSurvivors(request);
      record?.signatures?.push(signature);
      server.collectSignature(signature);
    }
    const forwarded = server.forwardSignatures();
    const responses = unmasking.map((client) => client.unmaskConsistent(forwarded));
    record?.unmasking.push(...responses);
    return server.finish(responses);
  }
  const responses = unmasking.map((client) => client.unmask(request.survivors, request.dropped));
  record?.unmasking.push(...responses);
  return server.finish(responses);
}
