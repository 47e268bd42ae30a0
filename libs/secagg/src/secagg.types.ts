import type { Signer, SigningKeyPair } from '@medfed/crypto';

/**
 * One secure-aggregation round's public parameters, identical at every site and the server.
 * Follows Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine Learning"
 * (CCS 2017), in its semi-honest form over all pairs of sites.
 */
export interface SecAggParams {
  studyId: string;
  /** The training round; every message carries it and anything for another round is refused. */
  round: number;
  /** All sites selected for the round, sorted ascending, unique, at most 255 (GF(2^8) Shamir). */
  siteIds: string[];
  /** t: shares needed to reconstruct a secret, and the fewest sites that may remain at any step; 2..n. */
  threshold: number;
  /** Length of each site's update vector (the weight itself travels as one extra coordinate). */
  vectorLength: number;
  /** Update values are clipped to [−clipRange, clipRange] before quantisation; > 0. */
  clipRange: number;
  /** Ring Z_{2^bits}, 2..32; default 32. */
  bits?: number;
  /** Largest weight (example count) a site may send; fixes the quantisation scale. Default 65536. */
  maxWeight?: number;
  /** Which attempt of the round this is (1, 2, …); signed in the consistency check so a signature of one attempt is refused in another. Default 1. */
  session?: number;
}

/** Fields every secure-aggregation message carries; a message for another study or round is refused (WRONG_ROUND). */
export interface SecAggMessage {
  studyId: string;
  round: number;
}

/** Round 0, site → server → all: the site's two fresh X25519 public keys. */
export interface AdvertiseKeys extends SecAggMessage {
  siteId: string;
  /** c_u^PK: agrees the keys that encrypt the shares sent to this site. */
  encryptionPublicKey: Uint8Array;
  /** s_u^PK: agrees the pairwise mask seeds with the other sites. */
  maskingPublicKey: Uint8Array;
  /**
   * Malicious-server variant only (sites with a {@link SecAggIdentity}): the site's Ed25519 identity
   * public key and its signature over {@link advertiseMessage}(study, round, session, siteId, c^PK, s^PK),
   * so a server cannot substitute keys of its own and receive the shares meant for the site.
   */
  identityKey?: Uint8Array;
  signature?: Uint8Array;
}

/** Round 1, site `from` → server → site `to`: AE-encrypted Shamir shares of from's s^SK and b. */
export interface EncryptedShares extends SecAggMessage {
  from: string;
  to: string;
  /** ChaCha20-Poly1305 under HKDF(X25519(c_from^SK, c_to^PK)) of s-share (32) || b-share (32); aad = (study, round, from, to). */
  ciphertext: Uint8Array;
}

/** Round 2, site → server: the quantised, weighted update plus the weight, masked; vectorLength + 1 words in [0, 2^bits). */
export interface MaskedInput extends SecAggMessage {
  siteId: string;
  masked: Uint32Array;
}

/** Round 3, server → survivors: who sent a masked input (survivors) and who sent shares but no input (dropped). */
export interface UnmaskRequest extends SecAggMessage {
  survivors: string[];
  dropped: string[];
}

/**
 * The consistency check of the malicious-server variant (Bonawitz et al., CCS 2017, Fig. 4
 * "ConsistencyCheck"), site → server, and server → every signer: the site's Ed25519 signature, with
 * its identity key, of (study, round, session, U3). A site reveals shares only after seeing at least t
 * valid signatures of the very U3 it was told, so a server cannot tell some sites that u survived
 * (and get b_u from them) and others that u dropped (and get s_u^SK).
 */
export interface ConsistencySignature extends SecAggMessage {
  siteId: string;
  /** The attempt of the round (see {@link SecAggParams.session}). */
  session: number;
  /** U3 as the signer was told it, sorted. */
  survivors: string[];
  /** The signer's Ed25519 identity public key; it must belong to siteId (by default siteId is its fingerprint). */
  publicKey: Uint8Array;
  /** Ed25519 over {@link consistencyMessage}(study, round, session, survivors). */
  signature: Uint8Array;
}

/** One Shamir share a site holds of another site's secret. */
export interface HeldShare {
  /** The site whose secret this is a share of. */
  of: string;
  /** The share's bytes (x is the sender's 1-based position in siteIds). */
  y: Uint8Array;
}

/** Round 3, site → server: shares of b_u for every survivor u and of s_u^SK for every dropped u — never both for one site. */
export interface UnmaskingShares extends SecAggMessage {
  siteId: string;
  selfMaskShares: HeldShare[];
  keyShares: HeldShare[];
}

/** What the server learns: Σ wᵢ·clip(xᵢ) over the survivors, Σ wᵢ, and who they were. */
export interface SecAggResult {
  /** Σ over survivors of weight × clipped update (divide by weightSum for the FedAvg mean). */
  sum: Float32Array;
  weightSum: number;
  survivors: string[];
}

/**
 * A site's identity for the consistency check: with it a {@link SecAggClient} runs the
 * malicious-server variant and reveals no share before it has seen t valid signatures of its U3.
 */
export interface SecAggIdentity {
  /** The site's Ed25519 identity key pair (for a medfed node, the one it enrolled with). */
  signing: SigningKeyPair;
  /** Ed25519 implementation from @medfed/crypto; default `defaultSigner`. */
  signer?: Signer;
  /**
   * Whether `publicKey` is the identity key of `siteId` (the PKI of Bonawitz et al.'s active model).
   * Default: siteId is the key's fingerprint (`keyFingerprint`), which is how medfed names nodes.
   */
  isKeyOf?: (siteId: string, publicKey: Uint8Array) => boolean;
}
