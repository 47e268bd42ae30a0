import { types } from 'node:util';
import {
  defaultSigner,
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  addMask,
  expandMask,
  hkdfSha256,
  keyFingerprint,
  MAX_MASK_WORDS,
  type Signer,
  x25519SharedSecret,
  X25519_KEY_BYTES,
} from '@medfed/crypto';
import { DEFAULT_BITS, quantizationLevels } from './quantize.util';
import { MAX_SHAREHOLDERS } from './shamir.util';
import { SecAggError } from './secagg.error';
import type { AdvertiseKeys, ConsistencySignature, SecAggMessage, SecAggParams } from './secagg.types';

// Helpers the client and the server must compute identically: parameter checks, domain-separation
// contexts for the PRG and the share encryption, and the mask arithmetic modulo 2^32.

/** Default {@link SecAggParams.maxWeight}. */
export const DEFAULT_MAX_WEIGHT = 65536;
/** Bytes of the self-mask seed b_u. */
export const SEED_BYTES = 32;
/** Plaintext of one encrypted share: the s^SK share then the b share. */
export const SHARE_PLAINTEXT_BYTES = X25519_KEY_BYTES + SEED_BYTES;

/** {@link SecAggParams} checked, with defaults filled in and a site → Shamir x-coordinate index. */
export interface ResolvedParams extends Required<SecAggParams> {
  /** siteId → its 1-based position in siteIds (its Shamir x-coordinate). */
  position: ReadonlyMap<string, number>;
  /** words per masked input: vectorLength + 1 (the weight). */
  words: number;
}

const encoder = new TextEncoder();

/**
 * Checks parameters and fills defaults.
 * @throws SecAggError MALFORMED naming the bad field.
 */
export function resolveParams(params: SecAggParams): ResolvedParams {
  if (typeof params !== 'object' || params === null) throw new SecAggError('MALFORMED', 'params must be an object');
  const { studyId, round, siteIds, threshold, vectorLength, clipRange } = params;
  const bits = params.bits ?? DEFAULT_BITS;
  const maxWeight = params.maxWeight ?? DEFAULT_MAX_WEIGHT;
  const session = params.session ?? 1;
  if (typeof studyId !== 'string' || studyId.length === 0) throw new SecAggError('MALFORMED', 'studyId must be a non-empty string');
  if (!Number.isSafeInteger(round) || round < 0) throw new SecAggError('MALFORMED', `round must be an integer ≥ 0, got ${round}`);
  if (!Array.isArray(siteIds) || siteIds.length < 2 || siteIds.length > MAX_SHAREHOLDERS) {
    throw new SecAggError('MALFORMED', `siteIds must list 2..${MAX_SHAREHOLDERS} sites`);
  }
  siteIds.forEach((id, i) => {
    if (typeof id !== 'string' || id.length === 0) throw new SecAggError('MALFORMED', `siteIds[${i}] must be a non-empty string`);
    if (i > 0 && !(siteIds[i - 1] < id)) throw new SecAggError('MALFORMED', `siteIds must be sorted and unique (at ${i}: ${id})`);
  });
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > siteIds.length) {
    throw new SecAggError('MALFORMED', `threshold must be an integer in [2, ${siteIds.length}], got ${threshold}`);
  }
  if (!Number.isInteger(vectorLength) || vectorLength < 1 || vectorLength >= MAX_MASK_WORDS) {
    throw new SecAggError('MALFORMED', `vectorLength must be an integer in [1, ${MAX_MASK_WORDS}), got ${vectorLength}`);
  }
  if (!(Number.isFinite(clipRange) && clipRange > 0)) throw new SecAggError('MALFORMED', `clipRange must be finite and > 0, got ${clipRange}`);
  if (!(Number.isFinite(maxWeight) && maxWeight > 0)) throw new SecAggError('MALFORMED', `maxWeight must be finite and > 0, got ${maxWeight}`);
  if (!Number.isSafeInteger(session) || session < 1) throw new SecAggError('MALFORMED', `session must be an integer ≥ 1, got ${session}`);
  quantizationLevels(siteIds.length, bits);
  return {
    studyId,
    round,
    siteIds: [...siteIds],
    threshold,
    vectorLength,
    clipRange,
    bits,
    maxWeight,
    session,
    position: new Map(siteIds.map((id, i) => [id, i + 1])),
    words: vectorLength + 1,
  };
}

/**
 * Refuses a message that is not an object or belongs to another study or round.
 * @throws SecAggError MALFORMED or WRONG_ROUND.
 */
export function checkRound(params: ResolvedParams, message: SecAggMessage, what: string): void {
  if (typeof message !== 'object' || message === null) throw new SecAggError('MALFORMED', `${what} must be an object`);
  if (message.studyId !== params.studyId || message.round !== params.round) {
    throw new SecAggError(
      'WRONG_ROUND',
      `${what} is for study ${String(message.studyId)} round ${String(message.round)}, this is study ${params.studyId} round ${params.round}`,
    );
  }
}

/** Throws MALFORMED unless `value` is a Uint8Array of `length` bytes (cross-realm safe). */
export function checkBytes(value: unknown, length: number, what: string): asserts value is Uint8Array {
  if (!types.isUint8Array(value) || value.length !== length) {
    throw new SecAggError('MALFORMED', `${what} must be ${length} bytes`);
  }
}

function context(parts: (string | number | string[])[]): Uint8Array {
  // JSON of an array is unambiguous however the ids are spelled, unlike plain concatenation.
  return encoder.encode(JSON.stringify(['medfed/secagg/v1', ...parts]));
}

/** Associated data binding an encrypted share to its study, round, sender and recipient. */
export function shareAad(params: ResolvedParams, from: string, to: string): Uint8Array {
  return context(['share', params.studyId, params.round, from, to]);
}

/** The AE key of the pair (from, to): HKDF-SHA256 of their X25519 agreement c_{u,v} (same both ways). */
export function shareKey(params: ResolvedParams, secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  const shared = x25519SharedSecret(secretKey, peerPublicKey);
  const key = hkdfSha256(shared, new Uint8Array(0), context(['share-key', params.studyId, params.round]), 32);
  shared.fill(0);
  return key;
}

/** PRG(b_u): the self mask of `siteId`. */
export function selfMask(params: ResolvedParams, siteId: string, seed: Uint8Array): Uint32Array {
  return expandMask(seed, params.words, context(['self', params.studyId, params.round, siteId]));
}

/** acc ± PRG(b_u) (mod 2^32), streamed: the same words as adding {@link selfMask}, without building it. */
export function applySelfMask(params: ResolvedParams, acc: Uint32Array, siteId: string, seed: Uint8Array, sign: 1 | -1): void {
  addMask(acc, seed, context(['self', params.studyId, params.round, siteId]), sign);
}

/**
 * Adds to `acc` (mod 2^32) the pairwise mask site `me` applies for peer `peer`: +PRG(s_{me,peer}) when
 * me sorts before peer, −PRG otherwise, so the two masks of a pair cancel in the sum. `sign` = −1
 * removes it again (the server, for a dropped peer).
 */
export function applyPairMask(
  params: ResolvedParams,
  acc: Uint32Array,
  me: string,
  peer: string,
  maskingSecretKey: Uint8Array,
  peerMaskingPublicKey: Uint8Array,
  sign: 1 | -1 = 1,
): void {
  const seed = x25519SharedSecret(maskingSecretKey, peerMaskingPublicKey);
  const [lo, hi] = me < peer ? [me, peer] : [peer, me];
  addMask(acc, seed, context(['pair', params.studyId, params.round, lo, hi]), (me < peer ? sign : -sign) as 1 | -1);
  seed.fill(0);
}

/** acc += sign · mask (mod 2^32); storing into a Uint32Array reduces modulo 2^32. */
export function addInto(acc: Uint32Array, mask: Uint32Array, sign: 1 | -1): void {
  if (sign === 1) {
    for (let i = 0; i < acc.length; i++) acc[i] = acc[i] + mask[i];
  } else {
    for (let i = 0; i < acc.length; i++) acc[i] = acc[i] - mask[i];
  }
}

/** Reduces every word modulo 2^bits (a no-op for bits = 32). */
export function reduceToRing(acc: Uint32Array, bits: number): void {
  if (bits === 32) return;
  const mask = 2 ** bits - 1;
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i] & mask;
}

/** Throws MALFORMED unless `ids` is an array of strings with no repeats; returns them as a Set. */
export function idSet(ids: unknown, what: string): Set<string> {
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new SecAggError('MALFORMED', `${what} must be an array of site ids`);
  const set = new Set<string>(ids as string[]);
  if (set.size !== ids.length) throw new SecAggError('DUPLICATE', `${what} lists a site twice`);
  return set;
}

/**
 * The bytes a site signs in the consistency check (Bonawitz et al. 2017, Fig. 4, round 4): the
 * domain tag, study, round, session and the survivor set U3 (sorted), as canonical JSON.
 */
export function consistencyMessage(studyId: string, round: number, session: number, survivors: readonly string[]): Uint8Array {
  return context(['consistency', studyId, round, session, [...survivors].sort()]);
}

/** How consistency signatures are checked: the Ed25519 implementation and the binding of a key to a site. */
export interface SignatureCheck {
  signer: Signer;
  isKeyOf: (siteId: string, publicKey: Uint8Array) => boolean;
}

/** medfed's PKI: a node's id is the fingerprint of its Ed25519 identity key, so an id names exactly one key. */
export function fingerprintIsKeyOf(siteId: string, publicKey: Uint8Array): boolean {
  return publicKey.length === ED25519_PUBLIC_KEY_BYTES && keyFingerprint(publicKey) === siteId;
}

/** The default {@link SignatureCheck}: `defaultSigner` and {@link fingerprintIsKeyOf}. */
export const DEFAULT_SIGNATURE_CHECK: SignatureCheck = { signer: defaultSigner, isKeyOf: fingerprintIsKeyOf };

/**
 * Checks one consistency signature for this study, round and session: well-formed, made with the
 * identity key of its siteId, and valid over the survivor list it carries.
 * @throws SecAggError MALFORMED, WRONG_ROUND, BAD_SIGNATURE
 */
export function checkConsistencySignature(params: ResolvedParams, message: ConsistencySignature, check: SignatureCheck): void {
  checkRound(params, message, 'ConsistencySignature');
  if (typeof message.siteId !== 'string') throw new SecAggError('MALFORMED', 'ConsistencySignature.siteId must be a string');
  if (message.session !== params.session) {
    throw new SecAggError('WRONG_ROUND', `the consistency signature of ${message.siteId} is for session ${String(message.session)}, this is session ${params.session}`);
  }
  const survivors = idSet(message.survivors, `survivors signed by ${message.siteId}`);
  checkBytes(message.publicKey, ED25519_PUBLIC_KEY_BYTES, `publicKey of ${message.siteId}`);
  checkBytes(message.signature, ED25519_SIGNATURE_BYTES, `signature of ${message.siteId}`);
  if (!check.isKeyOf(message.siteId, message.publicKey)) throw new SecAggError('BAD_SIGNATURE', `the key in the consistency signature of ${message.siteId} is not its identity key`);
  const signed = consistencyMessage(params.studyId, params.round, params.session, [...survivors]);
  if (!check.signer.verify(signed, message.signature, message.publicKey)) {
    throw new SecAggError('BAD_SIGNATURE', `the consistency signature of ${message.siteId} does not verify for study ${params.studyId} round ${params.round} session ${params.session}`);
  }
}

/** Whether two id lists hold the same ids (order ignored). */
export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((id) => set.has(id));
}

/** The bytes a site signs over its round-0 keys (Bonawitz et al. 2017, Fig. 4, round 0, active variant). */
export function advertiseMessage(params: ResolvedParams, siteId: string, encryptionPublicKey: Uint8Array, maskingPublicKey: Uint8Array): Uint8Array {
  return context([
    'advertise',
    params.studyId,
    params.round,
    params.session,
    siteId,
    Buffer.from(encryptionPublicKey).toString('base64'),
    Buffer.from(maskingPublicKey).toString('base64'),
  ]);
}

/**
 * Checks the identity signature on one site's advertised keys: present, by the site's identity key,
 * over this study, round, session and exactly these keys.
 * @throws SecAggError BAD_SIGNATURE, MALFORMED
 */
export function checkAdvertiseSignature(params: ResolvedParams, message: AdvertiseKeys, check: SignatureCheck): void {
  if (message.identityKey === undefined || message.signature === undefined) throw new SecAggError('BAD_SIGNATURE', `the keys of ${message.siteId} are not signed`);
  checkBytes(message.identityKey, ED25519_PUBLIC_KEY_BYTES, `identityKey of ${message.siteId}`);
  checkBytes(message.signature, ED25519_SIGNATURE_BYTES, `signature of ${message.siteId}'s keys`);
  if (!check.isKeyOf(message.siteId, message.identityKey)) throw new SecAggError('BAD_SIGNATURE', `the keys of ${message.siteId} are signed with a key that is not its identity key`);
  const signed = advertiseMessage(params, message.siteId, message.encryptionPublicKey, message.maskingPublicKey);
  if (!check.signer.verify(signed, message.signature, message.identityKey)) {
    throw new SecAggError('BAD_SIGNATURE', `the signature on ${message.siteId}'s keys does not verify for study ${params.studyId} round ${params.round} session ${params.session}`);
  }
}
