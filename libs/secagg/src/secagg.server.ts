import { types } from 'node:util';
import { AEAD_OVERHEAD, x25519KeyPairFromSecret, X25519_KEY_BYTES } from '@medfed/crypto';
import { dequantize } from './quantize.util';
import { Share, shamirCombine, shamirInterpolateAt } from './shamir.util';
import { SecAggError } from './secagg.error';
import {
  addInto,
  applyPairMask,
  checkAdvertiseSignature,
  checkBytes,
  checkConsistencySignature,
  checkRound,
  DEFAULT_SIGNATURE_CHECK,
  reduceToRing,
  resolveParams,
  ResolvedParams,
  SEED_BYTES,
  applySelfMask,
  SHARE_PLAINTEXT_BYTES,
  SignatureCheck,
} from './secagg-protocol.util';
import type {
  AdvertiseKeys,
  ConsistencySignature,
  EncryptedShares,
  HeldShare,
  MaskedInput,
  SecAggParams,
  SecAggResult,
  UnmaskingShares,
  UnmaskRequest,
} from './secagg.types';

/** Where a {@link SecAggServer} is: which messages it accepts next. */
export type SecAggServerPhase = 'advertise' | 'shares' | 'masked' | 'consistency' | 'unmasking' | 'done' | 'aborted';

/** Options of a {@link SecAggServer}. */
export interface SecAggServerOptions {
  /**
   * Run the malicious-server variant (Bonawitz et al. 2017): signed round-0 keys (refused unsigned)
   * and the consistency check round between the masked inputs and the unmasking; needed whenever the
   * sites have identities. Default false.
   */
  consistencyCheck?: boolean;
  /** How the server checks signatures before forwarding them; default Ed25519 and key fingerprints as site ids. */
  signatureCheck?: Partial<SignatureCheck>;
}

/**
 * The server's side of one secure-aggregation round (Bonawitz et al., CCS 2017, Fig. 4, semi-honest
 * variant, all pairs): collects each round's messages, closes the round (checking at least t sites
 * remain, else it aborts with BELOW_THRESHOLD and wipes everything it holds), routes the encrypted
 * shares, and finally reconstructs the survivors' self-mask seeds and the dropped sites' masking keys
 * to recover Σ wᵢ·xᵢ and Σ wᵢ — never an individual update. Pure; transport is the caller's job.
 */
export class SecAggServer {
  private readonly params: ResolvedParams;
  private currentPhase: SecAggServerPhase = 'advertise';
  private readonly advertised = new Map<string, AdvertiseKeys>();
  private readonly shares = new Map<string, EncryptedShares[]>();
  private readonly masked = new Map<string, Uint32Array>();
  private readonly unmasking = new Map<string, UnmaskingShares>();
  private u1: string[] = [];
  private u2: string[] = [];
  private u3: string[] = [];
  /** U4: the survivors whose consistency signature the server forwarded (= U3 without the check). */
  private u4: string[] = [];
  private readonly signatures = new Map<string, ConsistencySignature>();
  private readonly consistencyCheck: boolean;
  private readonly signatureCheck: SignatureCheck;

  /**
   * @param params - the round's parameters, the same the sites use (checked; MALFORMED otherwise).
   * @param options - see {@link SecAggServerOptions}; default semi-honest (no consistency round).
   */
  constructor(params: SecAggParams, options: SecAggServerOptions = {}) {
    this.params = resolveParams(params);
    this.consistencyCheck = options.consistencyCheck ?? false;
    this.signatureCheck = { ...DEFAULT_SIGNATURE_CHECK, ...options.signatureCheck };
  }

  /** The current phase ('aborted' after BELOW_THRESHOLD or BAD_SHARE). */
  get phase(): SecAggServerPhase {
    return this.currentPhase;
  }

  private expect(phase: SecAggServerPhase, step: string): void {
    if (this.currentPhase !== phase) throw new SecAggError('BAD_STATE', `${step} called in phase ${this.currentPhase}, expected ${phase}`);
  }

  /** Wipes every held message and key, marks the round aborted and throws `error`. */
  private abort(error: SecAggError): never {
    for (const words of this.masked.values()) words.fill(0);
    for (const message of this.unmasking.values()) for (const share of [...message.selfMaskShares, ...message.keyShares]) share.y.fill(0);
    this.masked.clear();
    this.unmasking.clear();
    this.shares.clear();
    this.advertised.clear();
    this.signatures.clear();
    this.currentPhase = 'aborted';
    throw error;
  }

  private closeStep(count: number, what: string): void {
    if (count < this.params.threshold) {
      this.abort(new SecAggError('BELOW_THRESHOLD', `${count} sites ${what}, threshold is ${this.params.threshold}; round aborted`));
    }
  }

  private checkSender(siteId: unknown, allowed: readonly string[], seen: ReadonlyMap<string, unknown>, what: string): asserts siteId is string {
    if (typeof siteId !== 'string' || !allowed.includes(siteId)) throw new SecAggError('UNKNOWN_SITE', `${what} from ${String(siteId)}, not expected at this step`);
    if (seen.has(siteId)) throw new SecAggError('DUPLICATE', `a second ${what} from ${siteId}`);
  }

  private base(): { studyId: string; round: number } {
    return { studyId: this.params.studyId, round: this.params.round };
  }

  /**
   * Round 0: accepts one site's public keys.
   * @throws SecAggError BAD_STATE, WRONG_ROUND, UNKNOWN_SITE, DUPLICATE, MALFORMED
   */
  collectAdvertise(message: AdvertiseKeys): void {
    this.expect('advertise', 'collectAdvertise');
    checkRound(this.params, message, 'AdvertiseKeys');
    this.checkSender(message.siteId, this.params.siteIds, this.advertised, 'AdvertiseKeys');
    checkBytes(message.encryptionPublicKey, X25519_KEY_BYTES, `encryptionPublicKey of ${message.siteId}`);
    checkBytes(message.maskingPublicKey, X25519_KEY_BYTES, `maskingPublicKey of ${message.siteId}`);
    if (this.consistencyCheck) checkAdvertiseSignature(this.params, message, this.signatureCheck);
    this.advertised.set(message.siteId, {
      ...this.base(),
      siteId: message.siteId,
      encryptionPublicKey: new Uint8Array(message.encryptionPublicKey),
      maskingPublicKey: new Uint8Array(message.maskingPublicKey),
      ...(message.identityKey && message.signature ? { identityKey: new Uint8Array(message.identityKey), signature: new Uint8Array(message.signature) } : {}),
    });
  }

  /**
   * Closes round 0 (U1 = the sites that advertised) and returns the list to broadcast to them.
   * @throws SecAggError BELOW_THRESHOLD (round aborted) with fewer than t; BAD_STATE
   */
  advertisedKeys(): AdvertiseKeys[] {
    this.expect('advertise', 'advertisedKeys');
    this.closeStep(this.advertised.size, 'advertised keys');
    this.u1 = [...this.advertised.keys()].sort();
    this.currentPhase = 'shares';
    return this.u1.map((id) => ({ ...(this.advertised.get(id) as AdvertiseKeys) }));
  }

  /**
   * Round 1: accepts one site's batch of encrypted shares, exactly one for every other member of U1.
   * @throws SecAggError BAD_STATE, WRONG_ROUND, UNKNOWN_SITE, DUPLICATE, MALFORMED
   */
  collectShares(batch: readonly EncryptedShares[]): void {
    this.expect('shares', 'collectShares');
    if (!Array.isArray(batch) || batch.length === 0) throw new SecAggError('MALFORMED', 'a shares batch must be a non-empty array');
    batch.forEach((message) => checkRound(this.params, message, 'EncryptedShares'));
    const from = batch[0].from;
    this.checkSender(from, this.u1, this.shares, 'EncryptedShares batch');
    const recipients = new Set<string>();
    for (const message of batch) {
      if (message.from !== from) throw new SecAggError('MALFORMED', `a batch from ${from} holds a share from ${String(message.from)}`);
      if (typeof message.to !== 'string' || message.to === from || !this.u1.includes(message.to)) {
        throw new SecAggError('UNKNOWN_SITE', `${from} sent a share to ${String(message.to)}, not another advertised site`);
      }
      if (recipients.has(message.to)) throw new SecAggError('DUPLICATE', `${from} sent two shares to ${message.to}`);
      recipients.add(message.to);
      checkBytes(message.ciphertext, SHARE_PLAINTEXT_BYTES + AEAD_OVERHEAD, `ciphertext from ${from} to ${message.to}`);
    }
    if (recipients.size !== this.u1.length - 1) throw new SecAggError('MALFORMED', `${from} sent shares to ${recipients.size} of the ${this.u1.length - 1} other sites`);
    this.shares.set(from, batch.map((message) => ({ ...this.base(), from, to: message.to, ciphertext: new Uint8Array(message.ciphertext) })));
  }

  /**
   * Closes round 1 (U2 = the sites that sent shares) and routes them: for each member of U2, the
   * shares addressed to it by the other members of U2.
   * @throws SecAggError BELOW_THRESHOLD (round aborted) with fewer than t; BAD_STATE
   */
  routeShares(): Map<string, EncryptedShares[]> {
    this.expect('shares', 'routeShares');
    this.closeStep(this.shares.size, 'sent shares');
    this.u2 = [...this.shares.keys()].sort();
    const routed = new Map<string, EncryptedShares[]>(this.u2.map((id) => [id, []]));
    for (const from of this.u2) {
      for (const message of this.shares.get(from) as EncryptedShares[]) routed.get(message.to)?.push(message);
    }
    this.shares.clear();
    this.currentPhase = 'masked';
    return routed;
  }

  /**
   * Round 2: accepts one U2 member's masked input (vectorLength + 1 words, each below 2^bits).
   * @throws SecAggError BAD_STATE, WRONG_ROUND, UNKNOWN_SITE, DUPLICATE, MALFORMED
   */
  collectMasked(message: MaskedInput): void {
    this.expect('masked', 'collectMasked');
    checkRound(this.params, message, 'MaskedInput');
    this.checkSender(message.siteId, this.u2, this.masked, 'MaskedInput');
    const { words, bits } = this.params;
    if (!types.isUint32Array(message.masked) || message.masked.length !== words) throw new SecAggError('MALFORMED', `masked input of ${message.siteId} must be a Uint32Array of ${words}`);
    if (bits < 32 && message.masked.some((w) => w >= 2 ** bits)) throw new SecAggError('MALFORMED', `masked input of ${message.siteId} has a word ≥ 2^${bits}`);
    this.masked.set(message.siteId, new Uint32Array(message.masked));
  }

  /**
   * Closes round 2 (U3 = the sites that sent a masked input) and returns the request to send to them:
   * survivors = U3, dropped = U2 ∖ U3.
   * @throws SecAggError BELOW_THRESHOLD (round aborted) with fewer than t; BAD_STATE
   */
  unmaskRequest(): UnmaskRequest {
    this.expect('masked', 'unmaskRequest');
    this.closeStep(this.masked.size, 'sent masked inputs');
    this.u3 = [...this.masked.keys()].sort();
    this.u4 = [...this.u3];
    this.currentPhase = this.consistencyCheck ? 'consistency' : 'unmasking';
    return { ...this.base(), survivors: [...this.u3], dropped: this.u2.filter((id) => !this.masked.has(id)) };
  }

  /**
   * Consistency check (only with `consistencyCheck`): accepts one survivor's signature of U3. An
   * honest server refuses what the sites would refuse: a signature from outside U3, over another
   * survivor set, another round or session, or that does not verify under the site's identity key.
   * @throws SecAggError BAD_STATE, WRONG_ROUND, UNKNOWN_SITE, DUPLICATE, MALFORMED, INCONSISTENT, BAD_SIGNATURE
   */
  collectSignature(message: ConsistencySignature): void {
    this.expect('consistency', 'collectSignature');
    checkRound(this.params, message, 'ConsistencySignature');
    this.checkSender(message.siteId, this.u3, this.signatures, 'ConsistencySignature');
    checkConsistencySignature(this.params, message, this.signatureCheck);
    if (message.survivors.length !== this.u3.length || [...message.survivors].sort().some((id, i) => id !== this.u3[i])) {
      throw new SecAggError('INCONSISTENT', `${message.siteId} signed a survivor set other than U3`);
    }
    this.signatures.set(message.siteId, {
      ...this.base(),
      siteId: message.siteId,
      session: message.session,
      survivors: [...this.u3],
      publicKey: new Uint8Array(message.publicKey),
      signature: new Uint8Array(message.signature),
    });
  }

  /**
   * Closes the consistency check (U4 = the survivors that signed) and returns the signatures to
   * forward to every member of U4.
   * @throws SecAggError BELOW_THRESHOLD (round aborted) with fewer than t signatures; BAD_STATE
   */
  forwardSignatures(): ConsistencySignature[] {
    this.expect('consistency', 'forwardSignatures');
    this.closeStep(this.signatures.size, 'signed the survivor set');
    this.u4 = [...this.signatures.keys()].sort();
    this.currentPhase = 'unmasking';
    return this.u4.map((id) => this.signatures.get(id) as ConsistencySignature);
  }

  /**
   * Round 3: accepts one survivor's unmasking shares — a b-share for every survivor and an s^SK-share
   * for every dropped site, no more, no less.
   * @throws SecAggError BAD_STATE, WRONG_ROUND, UNKNOWN_SITE, DUPLICATE, MALFORMED
   */
  collectUnmasking(message: UnmaskingShares): void {
    this.expect('unmasking', 'collectUnmasking');
    checkRound(this.params, message, 'UnmaskingShares');
    this.checkSender(message.siteId, this.u4, this.unmasking, 'UnmaskingShares');
    const dropped = this.u2.filter((id) => !this.masked.has(id));
    const copy = (list: unknown, expected: string[], length: number, what: string): HeldShare[] => {
      if (!Array.isArray(list) || list.length !== expected.length) throw new SecAggError('MALFORMED', `${message.siteId} sent ${what} for the wrong number of sites`);
      const seen = new Set<string>();
      return (list as HeldShare[]).map((share) => {
        if (!expected.includes(share?.of)) throw new SecAggError('UNKNOWN_SITE', `${message.siteId} sent ${what} of ${String(share?.of)}`);
        if (seen.has(share.of)) throw new SecAggError('DUPLICATE', `${message.siteId} sent two ${what} of ${share.of}`);
        seen.add(share.of);
        checkBytes(share.y, length, `${what} of ${share.of} from ${message.siteId}`);
        return { of: share.of, y: new Uint8Array(share.y) };
      });
    };
    this.unmasking.set(message.siteId, {
      ...this.base(),
      siteId: message.siteId,
      selfMaskShares: copy(message.selfMaskShares, this.u3, SEED_BYTES, 'self-mask shares'),
      keyShares: copy(message.keyShares, dropped, X25519_KEY_BYTES, 'key shares'),
    });
  }

  private reconstruct(of: string, pick: (message: UnmaskingShares) => HeldShare[]): Uint8Array {
    const shares: Share[] = [];
    for (const message of this.unmasking.values()) {
      const held = pick(message).find((share) => share.of === of) as HeldShare;
      shares.push({ x: this.params.position.get(message.siteId) as number, y: held.y });
    }
    const secret = shamirCombine(shares, this.params.threshold);
    // Extra shares must lie on the same polynomials; a lying or corrupted responder is caught here.
    const first = shares.slice(0, this.params.threshold);
    for (const extra of shares.slice(this.params.threshold)) {
      if (!Buffer.from(shamirInterpolateAt(first, extra.x)).equals(extra.y)) {
        this.abort(new SecAggError('BAD_SHARE', `the shares of ${of}'s secret are inconsistent; round aborted`));
      }
    }
    return secret;
  }

  /**
   * Closes round 3 and computes the aggregate: Σ_{u∈U3} y_u − Σ_{u∈U3} PRG(b_u) ∓ the dropped sites'
   * pairwise masks, decoded. Needs unmasking shares from at least t survivors.
   * @param unmaskingShares - further messages to collect first (each as in {@link collectUnmasking})
   * @throws SecAggError BELOW_THRESHOLD (round aborted, nothing reconstructed) with fewer than t
   *   responders; BAD_SHARE (round aborted) when a reconstructed key does not match its advertised
   *   public key or extra shares disagree; BAD_STATE
   */
  finish(unmaskingShares: readonly UnmaskingShares[] = []): SecAggResult {
    for (const message of unmaskingShares) this.collectUnmasking(message);
    this.expect('unmasking', 'finish');
    this.closeStep(this.unmasking.size, 'sent unmasking shares');
    const { words, bits, vectorLength, clipRange, maxWeight, siteIds } = this.params;
    const dropped = this.u2.filter((id) => !this.masked.has(id));
    const total = new Uint32Array(words);
    for (const id of this.u3) addInto(total, this.masked.get(id) as Uint32Array, 1);
    for (const id of this.u3) {
      const seed = this.reconstruct(id, (message) => message.selfMaskShares);
      applySelfMask(this.params, total, id, seed, -1);
      seed.fill(0);
    }
    for (const id of dropped) {
      const secretKey = this.reconstruct(id, (message) => message.keyShares);
      const advertised = this.advertised.get(id) as AdvertiseKeys;
      if (!Buffer.from(x25519KeyPairFromSecret(secretKey).publicKey).equals(advertised.maskingPublicKey)) {
        this.abort(new SecAggError('BAD_SHARE', `the reconstructed masking key of ${id} does not match its advertised public key; round aborted`));
      }
      // Each survivor v added ±PRG(s_{v,id}) for the dropped site; take it out again.
      for (const v of this.u3) {
        applyPairMask(this.params, total, v, id, secretKey, (this.advertised.get(v) as AdvertiseKeys).maskingPublicKey, -1);
      }
      secretKey.fill(0);
    }
    reduceToRing(total, bits);
    const sum = Float32Array.from(dequantize(total, clipRange * maxWeight, siteIds.length, bits, 0, vectorLength));
    const weightSum = dequantize(total, maxWeight, siteIds.length, bits, vectorLength, words)[0];
    for (const words32 of this.masked.values()) words32.fill(0);
    this.masked.clear();
    this.unmasking.clear();
    this.currentPhase = 'done';
    return { sum, weightSum, survivors: [...this.u3] };
  }
}
