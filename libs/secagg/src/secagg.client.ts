import { types } from 'node:util';
import { aeadOpen, aeadSeal, EncryptionKeyPair, randomBytes, x25519KeyPairFromSecret, X25519_KEY_BYTES } from '@medfed/crypto';
import { quantize } from './quantize.util';
import { RandomBytes, shamirSplit } from './shamir.util';
import { SecAggError } from './secagg.error';
import {
  advertiseMessage,
  applyPairMask,
  checkAdvertiseSignature,
  checkBytes,
  checkConsistencySignature,
  checkRound,
  consistencyMessage,
  DEFAULT_SIGNATURE_CHECK,
  idSet,
  reduceToRing,
  resolveParams,
  sameIds,
  ResolvedParams,
  SEED_BYTES,
  applySelfMask,
  shareAad,
  shareKey,
  SHARE_PLAINTEXT_BYTES,
  SignatureCheck,
} from './secagg-protocol.util';
import type {
  AdvertiseKeys,
  ConsistencySignature,
  EncryptedShares,
  HeldShare,
  MaskedInput,
  SecAggIdentity,
  SecAggParams,
  UnmaskingShares,
  UnmaskRequest,
} from './secagg.types';

/** Where a {@link SecAggClient} is; 'aborted' after a failed consistency check (nothing revealed). */
export type SecAggClientPhase = 'new' | 'advertised' | 'shared' | 'masked' | 'signed' | 'unmasked' | 'aborted';
type ClientPhase = SecAggClientPhase;

interface HeldShares {
  keyShare: Uint8Array;
  selfMaskShare: Uint8Array;
}

/**
 * One site's side of one secure-aggregation round (Bonawitz et al., CCS 2017, Fig. 4, semi-honest
 * variant, all pairs): a pure state machine, one method per protocol round, each callable once and in
 * order (else BAD_STATE). Transport, signatures and sealing to the server are the caller's job.
 *
 * What it guarantees the server: the masked input is the site's quantised update plus a self mask
 * PRG(b_u) and pairwise masks ±PRG(s_{u,v}) — uniform in Z_{2^bits} to anyone without b_u — and in
 * round 3 it reveals, for each other site, a share of b or of s^SK but never both.
 *
 * Given a {@link SecAggIdentity} it runs the malicious-server variant (Bonawitz et al. 2017, Fig. 4):
 * it signs its round-0 keys and accepts only peers' keys signed by their identity keys, and
 * (round 4, "ConsistencyCheck") after its masked input it signs the survivor set U3 it was told
 * ({@link signSurvivors}) and reveals shares only once the server has shown it at least t valid
 * signatures, from sites of U3, of that same U3 ({@link unmaskConsistent}); the semi-honest
 * {@link unmask} is then refused. A failed check aborts the site for the round and wipes its shares.
 */
export class SecAggClient {
  private readonly params: ResolvedParams;
  private currentPhase: ClientPhase = 'new';
  private encryptionKeys?: EncryptionKeyPair;
  private maskingKeys?: EncryptionKeyPair;
  private selfMaskSeed?: Uint8Array;
  /** U1: the advertised keys of every site the server announced. */
  private readonly advertised = new Map<string, AdvertiseKeys>();
  /** Shares held of each U2 member's secrets (own included). */
  private readonly held = new Map<string, HeldShares>();
  private readonly signatureCheck: SignatureCheck | null;
  /** U3 and U2∖U3 as the server told this site, kept between signing and unmasking. */
  private told?: { survivors: string[]; dropped: string[] };
  private whyAborted: string | null = null;

  /**
   * @param params - the round's parameters (checked; MALFORMED otherwise)
   * @param siteId - this site, one of params.siteIds (UNKNOWN_SITE otherwise)
   * @param rng - randomness for keys, the self-mask seed and Shamir coefficients; default the OS CSPRNG.
   *   Pass a seeded generator only in tests.
   * @param identity - this site's identity key: turns on the consistency check (malicious-server
   *   variant). Default none: the semi-honest protocol.
   */
  constructor(
    params: SecAggParams,
    readonly siteId: string,
    private readonly rng: RandomBytes = randomBytes,
    private readonly identity?: SecAggIdentity,
  ) {
    this.params = resolveParams(params);
    if (!this.params.position.has(siteId)) throw new SecAggError('UNKNOWN_SITE', `site ${String(siteId)} is not selected for this round`);
    this.signatureCheck = identity
      ? { signer: identity.signer ?? DEFAULT_SIGNATURE_CHECK.signer, isKeyOf: identity.isKeyOf ?? DEFAULT_SIGNATURE_CHECK.isKeyOf }
      : null;
  }

  /** The current phase. */
  get phase(): SecAggClientPhase {
    return this.currentPhase;
  }

  /** Why this site aborted the round (a failed consistency check), or null. */
  get abortReason(): string | null {
    return this.whyAborted;
  }

  private advance(from: ClientPhase, to: ClientPhase, step: string): void {
    if (this.currentPhase !== from) throw new SecAggError('BAD_STATE', `${step} called in phase ${this.currentPhase}, expected ${from}`);
    this.currentPhase = to;
  }

  private base(): { studyId: string; round: number } {
    return { studyId: this.params.studyId, round: this.params.round };
  }

  /** Round 0: fresh X25519 key pairs (c_u for share encryption, s_u for mask agreement); returns their public halves. */
  advertiseKeys(): AdvertiseKeys {
    this.advance('new', 'advertised', 'advertiseKeys');
    this.encryptionKeys = x25519KeyPairFromSecret(this.rng(X25519_KEY_BYTES));
    this.maskingKeys = x25519KeyPairFromSecret(this.rng(X25519_KEY_BYTES));
    const keys: AdvertiseKeys = {
      ...this.base(),
      siteId: this.siteId,
      encryptionPublicKey: new Uint8Array(this.encryptionKeys.publicKey),
      maskingPublicKey: new Uint8Array(this.maskingKeys.publicKey),
    };
    if (!this.identity) return keys;
    const signer = this.identity.signer ?? DEFAULT_SIGNATURE_CHECK.signer;
    const signed = advertiseMessage(this.params, this.siteId, keys.encryptionPublicKey, keys.maskingPublicKey);
    return { ...keys, identityKey: new Uint8Array(this.identity.signing.publicKey), signature: signer.sign(signed, this.identity.signing.secretKey) };
  }

  /**
   * Round 1: checks the server's list of advertised keys (U1: at least t, all distinct, this site's
   * own keys unchanged), draws the self-mask seed b_u, splits b_u and s_u^SK into t-of-n Shamir shares
   * and encrypts each other site's pair of shares to it.
   * @param allAdvertised - the AdvertiseKeys the server collected, this site's included
   * @returns one EncryptedShares per other site in U1
   * @throws SecAggError WRONG_ROUND, UNKNOWN_SITE, DUPLICATE, MALFORMED, BELOW_THRESHOLD, BAD_STATE
   */
  shareKeys(allAdvertised: readonly AdvertiseKeys[]): EncryptedShares[] {
    this.advance('advertised', 'shared', 'shareKeys');
    if (!Array.isArray(allAdvertised)) throw new SecAggError('MALFORMED', 'allAdvertised must be an array');
    const seenKeys = new Set<string>();
    for (const message of allAdvertised) {
      checkRound(this.params, message, 'AdvertiseKeys');
      if (!this.params.position.has(message.siteId)) throw new SecAggError('UNKNOWN_SITE', `AdvertiseKeys from ${String(message.siteId)}`);
      if (this.advertised.has(message.siteId)) throw new SecAggError('DUPLICATE', `two AdvertiseKeys from ${message.siteId}`);
      checkBytes(message.encryptionPublicKey, X25519_KEY_BYTES, `encryptionPublicKey of ${message.siteId}`);
      checkBytes(message.maskingPublicKey, X25519_KEY_BYTES, `maskingPublicKey of ${message.siteId}`);
      // Active variant: keys the server made up would route this site's shares to the server.
      if (this.signatureCheck) checkAdvertiseSignature(this.params, message, this.signatureCheck);
      for (const key of [message.encryptionPublicKey, message.maskingPublicKey]) {
        // Repeated keys would make two pairs' masks or share keys equal (Bonawitz et al. Fig. 4, round 1).
        const hex = Buffer.from(key).toString('hex');
        if (seenKeys.has(hex)) throw new SecAggError('MALFORMED', `a public key of ${message.siteId} repeats another advertised key`);
        seenKeys.add(hex);
      }
      this.advertised.set(message.siteId, message);
    }
    const own = this.advertised.get(this.siteId);
    const encryptionKeys = this.encryptionKeys as EncryptionKeyPair;
    const maskingKeys = this.maskingKeys as EncryptionKeyPair;
    if (!own || !Buffer.from(own.encryptionPublicKey).equals(encryptionKeys.publicKey) || !Buffer.from(own.maskingPublicKey).equals(maskingKeys.publicKey)) {
      throw new SecAggError('MALFORMED', `the advertised keys do not include ${this.siteId}'s own keys unchanged`);
    }
    if (this.advertised.size < this.params.threshold) {
      throw new SecAggError('BELOW_THRESHOLD', `${this.advertised.size} sites advertised keys, threshold is ${this.params.threshold}`);
    }

    this.selfMaskSeed = new Uint8Array(this.rng(SEED_BYTES));
    checkBytes(this.selfMaskSeed, SEED_BYTES, 'rng output');
    const n = this.params.siteIds.length;
    const keyShares = shamirSplit(maskingKeys.secretKey, n, this.params.threshold, this.rng);
    const seedShares = shamirSplit(this.selfMaskSeed, n, this.params.threshold, this.rng);
    const out: EncryptedShares[] = [];
    for (const to of this.advertised.keys()) {
      const x = this.params.position.get(to) as number;
      if (to === this.siteId) {
        this.held.set(to, { keyShare: keyShares[x - 1].y, selfMaskShare: seedShares[x - 1].y });
        continue;
      }
      const plaintext = new Uint8Array(SHARE_PLAINTEXT_BYTES);
      plaintext.set(keyShares[x - 1].y);
      plaintext.set(seedShares[x - 1].y, X25519_KEY_BYTES);
      const key = shareKey(this.params, encryptionKeys.secretKey, (this.advertised.get(to) as AdvertiseKeys).encryptionPublicKey);
      out.push({ ...this.base(), from: this.siteId, to, ciphertext: aeadSeal(key, plaintext, shareAad(this.params, this.siteId, to)) });
      key.fill(0);
      plaintext.fill(0);
    }
    for (const share of [...keyShares, ...seedShares]) if (!this.held.has(this.siteIdAt(share.x))) share.y.fill(0);
    return out;
  }

  private siteIdAt(x: number): string {
    return this.params.siteIds[x - 1];
  }

  /**
   * Round 2: opens the shares routed to this site (their senders, with this site, are U2; at least t),
   * then returns y_u = Q(clip(x)·w ‖ w) + PRG(b_u) + Σ_{v∈U2∖u} ±PRG(s_{u,v}) mod 2^bits, where Q
   * quantises with range clipRange·maxWeight for the update and maxWeight for the weight.
   * @param vector - the update (vectorLength finite floats); clipped to ±clipRange
   * @param weight - the FedAvg weight, e.g. the example count; in [0, maxWeight]
   * @param sharesForMe - every EncryptedShares the server routed to this site
   * @throws SecAggError BAD_SHARE (a share that does not open), WRONG_ROUND, UNKNOWN_SITE, DUPLICATE,
   *   MALFORMED, BELOW_THRESHOLD, BAD_STATE
   */
  maskedInput(vector: Float32Array, weight: number, sharesForMe: readonly EncryptedShares[]): MaskedInput {
    this.advance('shared', 'masked', 'maskedInput');
    const { vectorLength, clipRange, maxWeight, bits, threshold } = this.params;
    if (!types.isFloat32Array(vector) || vector.length !== vectorLength) throw new SecAggError('MALFORMED', `vector must be a Float32Array of ${vectorLength}`);
    if (!(Number.isFinite(weight) && weight >= 0 && weight <= maxWeight)) throw new SecAggError('MALFORMED', `weight must be in [0, ${maxWeight}], got ${weight}`);
    if (!Array.isArray(sharesForMe)) throw new SecAggError('MALFORMED', 'sharesForMe must be an array');
    const encryptionKeys = this.encryptionKeys as EncryptionKeyPair;
    for (const message of sharesForMe) {
      checkRound(this.params, message, 'EncryptedShares');
      if (message.to !== this.siteId) throw new SecAggError('UNKNOWN_SITE', `a share for ${String(message.to)} was routed to ${this.siteId}`);
      const sender = this.advertised.get(message.from);
      if (!sender || message.from === this.siteId) throw new SecAggError('UNKNOWN_SITE', `a share from ${String(message.from)}, not an advertised peer`);
      if (this.held.has(message.from)) throw new SecAggError('DUPLICATE', `two shares from ${message.from}`);
      if (!types.isUint8Array(message.ciphertext)) throw new SecAggError('MALFORMED', `ciphertext from ${message.from} must be bytes`);
      const key = shareKey(this.params, encryptionKeys.secretKey, sender.encryptionPublicKey);
      const plaintext = aeadOpen(key, message.ciphertext, shareAad(this.params, message.from, this.siteId));
      key.fill(0);
      if (plaintext === null || plaintext.length !== SHARE_PLAINTEXT_BYTES) {
        throw new SecAggError('BAD_SHARE', `the share from ${message.from} does not open (tampered, or for another site/round)`);
      }
      this.held.set(message.from, { keyShare: plaintext.slice(0, X25519_KEY_BYTES), selfMaskShare: plaintext.slice(X25519_KEY_BYTES) });
      plaintext.fill(0);
    }
    if (this.held.size < threshold) throw new SecAggError('BELOW_THRESHOLD', `${this.held.size} sites shared keys, threshold is ${threshold}`);

    const { words } = this.params;
    const y = new Uint32Array(words);
    const weighted = new Float64Array(vectorLength);
    const n = this.params.siteIds.length;
    for (let i = 0; i < vectorLength; i++) {
      const v = vector[i];
      if (!Number.isFinite(v)) throw new SecAggError('MALFORMED', `vector has a non-finite value at ${i}`);
      weighted[i] = (v > clipRange ? clipRange : v < -clipRange ? -clipRange : v) * weight;
    }
    quantize(weighted, clipRange * maxWeight, n, bits, y, 0);
    quantize([weight], maxWeight, n, bits, y, vectorLength);
    weighted.fill(0);
    applySelfMask(this.params, y, this.siteId, this.selfMaskSeed as Uint8Array, 1);
    const maskingKeys = this.maskingKeys as EncryptionKeyPair;
    for (const peer of this.held.keys()) {
      if (peer === this.siteId) continue;
      applyPairMask(this.params, y, this.siteId, peer, maskingKeys.secretKey, (this.advertised.get(peer) as AdvertiseKeys).maskingPublicKey);
    }
    reduceToRing(y, bits);
    // Neither the seed nor the masking key is needed again: the others hold their shares.
    (this.selfMaskSeed as Uint8Array).fill(0);
    maskingKeys.secretKey.fill(0);
    return { ...this.base(), siteId: this.siteId, masked: y };
  }

  /**
   * Round 3 (semi-honest variant): checks the server's split of U2 into survivors (sent a masked
   * input, this site among them, at least t) and dropped, then reveals its share of b_u for each
   * survivor u and of s_u^SK for each dropped u. Callable once, so the server never gets both shares
   * of one site from it. Refused (BAD_STATE) when the client has an identity: then the consistency
   * check must come first ({@link signSurvivors}, {@link unmaskConsistent}).
   * @throws SecAggError MALFORMED (lists that are not a partition of U2, or omit this site),
   *   UNKNOWN_SITE, DUPLICATE, BELOW_THRESHOLD, BAD_STATE
   */
  unmask(survivors: readonly string[], dropped: readonly string[]): UnmaskingShares {
    if (this.signatureCheck) throw new SecAggError('BAD_STATE', `${this.siteId} reveals shares only after the consistency check`);
    this.advance('masked', 'unmasked', 'unmask');
    const told = this.checkSplit(survivors, dropped);
    return this.reveal(told.survivors, told.dropped);
  }

  /**
   * Consistency check, first half (Bonawitz et al. 2017, Fig. 4, round 4): checks the server's
   * unmask request like {@link unmask} and signs (study, round, session, U3) with this site's
   * identity key. Reveals nothing.
   * @throws SecAggError as {@link unmask}; BAD_STATE without an identity
   */
  signSurvivors(request: UnmaskRequest): ConsistencySignature {
    if (!this.identity) throw new SecAggError('BAD_STATE', `${this.siteId} has no identity key to sign with`);
    this.advance('masked', 'signed', 'signSurvivors');
    checkRound(this.params, request, 'UnmaskRequest');
    this.told = this.checkSplit(request.survivors, request.dropped);
    const signer = this.identity.signer ?? DEFAULT_SIGNATURE_CHECK.signer;
    const message = consistencyMessage(this.params.studyId, this.params.round, this.params.session, this.told.survivors);
    return {
      ...this.base(),
      siteId: this.siteId,
      session: this.params.session,
      survivors: [...this.told.survivors],
      publicKey: new Uint8Array(this.identity.signing.publicKey),
      signature: signer.sign(message, this.identity.signing.secretKey),
    };
  }

  /**
   * Consistency check, second half, then round 3: verifies the signatures the server forwarded —
   * each from a distinct member of the U3 this site was told, made with that site's identity key,
   * for this study, round and session, over exactly that U3 — and that there are at least t; only
   * then reveals the shares as {@link unmask} does. Any failure aborts this site for the round:
   * its held shares are wiped, {@link abortReason} says why, and the error is thrown.
   * @throws SecAggError INCONSISTENT (a signature over another survivor set), BAD_SIGNATURE (forged,
   *   wrong key, or another round's), WRONG_ROUND, UNKNOWN_SITE (a signer outside U3), DUPLICATE,
   *   BELOW_THRESHOLD (fewer than t signatures), MALFORMED, BAD_STATE
   */
  unmaskConsistent(signatures: readonly ConsistencySignature[]): UnmaskingShares {
    this.advance('signed', 'unmasked', 'unmaskConsistent');
    const told = this.told as { survivors: string[]; dropped: string[] };
    const check = this.signatureCheck as SignatureCheck;
    try {
      if (!Array.isArray(signatures)) throw new SecAggError('MALFORMED', 'the forwarded signatures must be an array');
      const signers = new Set<string>();
      const survivors = new Set(told.survivors);
      for (const signature of signatures) {
        if (typeof signature !== 'object' || signature === null) throw new SecAggError('MALFORMED', 'a forwarded signature must be an object');
        if (signers.has(signature.siteId)) throw new SecAggError('DUPLICATE', `two consistency signatures from ${String(signature.siteId)}`);
        // A genuine signature over another set is proof that the server lied, whoever signed it.
        checkConsistencySignature(this.params, signature, check);
        if (!sameIds(signature.survivors, told.survivors)) {
          throw new SecAggError('INCONSISTENT', `${signature.siteId} signed a survivor set of ${signature.survivors.length} sites, this site was told ${told.survivors.length}: the server told sites different survivor sets`);
        }
        if (!survivors.has(signature.siteId)) throw new SecAggError('UNKNOWN_SITE', `a consistency signature from ${signature.siteId}, not a survivor this site was told of`);
        signers.add(signature.siteId);
      }
      if (signers.size < this.params.threshold) {
        throw new SecAggError('BELOW_THRESHOLD', `${signers.size} sites signed the survivor set, threshold is ${this.params.threshold}`);
      }
    } catch (err) {
      this.abortWith(err);
    }
    return this.reveal(told.survivors, told.dropped);
  }

  private abortWith(err: unknown): never {
    this.currentPhase = 'aborted';
    this.whyAborted = err instanceof Error ? err.message : String(err);
    for (const shares of this.held.values()) {
      shares.keyShare.fill(0);
      shares.selfMaskShare.fill(0);
    }
    this.held.clear();
    throw err;
  }

  /** Checks that (survivors, dropped) partition the sites that shared keys, with this site and at least t survivors. */
  private checkSplit(survivors: readonly string[], dropped: readonly string[]): { survivors: string[]; dropped: string[] } {
    const alive = idSet(survivors, 'survivors');
    const gone = idSet(dropped, 'dropped');
    for (const id of [...alive, ...gone]) {
      if (!this.held.has(id)) throw new SecAggError('UNKNOWN_SITE', `${id} did not share keys with ${this.siteId} this round`);
      if (alive.has(id) && gone.has(id)) throw new SecAggError('MALFORMED', `${id} is listed both as survivor and as dropped`);
    }
    if (alive.size + gone.size !== this.held.size) throw new SecAggError('MALFORMED', `survivors and dropped cover ${alive.size + gone.size} of the ${this.held.size} sites that shared keys`);
    if (!alive.has(this.siteId)) throw new SecAggError('MALFORMED', `${this.siteId} sent its masked input but is not listed as a survivor`);
    if (alive.size < this.params.threshold) throw new SecAggError('BELOW_THRESHOLD', `${alive.size} survivors, threshold is ${this.params.threshold}`);
    return { survivors: [...alive].sort(), dropped: [...gone].sort() };
  }

  private reveal(survivors: readonly string[], dropped: readonly string[]): UnmaskingShares {
    const selfMaskShares: HeldShare[] = survivors.map((of) => ({ of, y: new Uint8Array((this.held.get(of) as HeldShares).selfMaskShare) }));
    const keyShares: HeldShare[] = dropped.map((of) => ({ of, y: new Uint8Array((this.held.get(of) as HeldShares).keyShare) }));
    for (const shares of this.held.values()) {
      shares.keyShare.fill(0);
      shares.selfMaskShare.fill(0);
    }
    return { ...this.base(), siteId: this.siteId, selfMaskShares, keyShares };
  }
}
