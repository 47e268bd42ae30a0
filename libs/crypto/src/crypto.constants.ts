/** Length in bytes of an Ed25519 public key (RFC 8032 §5.1.5). */
export const ED25519_PUBLIC_KEY_BYTES = 32;

/** Length in bytes of an Ed25519 seed, the private half of a key pair (RFC 8032 §5.1.5). */
export const ED25519_SEED_BYTES = 32;

/**
 * Length in bytes of an Ed25519 secret key in tweetnacl's layout: the 32-byte seed followed by the
 * 32-byte public key.
 */
export const ED25519_SECRET_KEY_BYTES = ED25519_SEED_BYTES + ED25519_PUBLIC_KEY_BYTES;

/** Length in bytes of an Ed25519 signature, R || S (RFC 8032 §5.1.6). */
export const ED25519_SIGNATURE_BYTES = 64;

/** Length in bytes of an X25519 public or secret key (RFC 7748 §5). */
export const X25519_KEY_BYTES = 32;

/** Length in bytes of a SHA-256 digest (FIPS 180-4). */
export const SHA256_BYTES = 32;
