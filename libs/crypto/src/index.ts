export {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SECRET_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  X25519_KEY_BYTES,
  SHA256_BYTES,
} from './crypto.constants';
export type { SigningKeyPair, EncryptionKeyPair, Identity, PublicIdentity } from './identity.keys';
export { generateIdentity, publicIdentity } from './identity.keys';
export type { Signer } from './ed25519.signer';
export { nodeSigner, tweetnaclSigner, defaultSigner } from './ed25519.signer';
export type { Sealer } from './x25519.sealer';
export { nodeSealer, tweetnaclSealer, defaultSealer } from './x25519.sealer';
export { sha256, sha256Hex, keyFingerprint } from './hash.util';
export { randomBytes, toBase64, fromBase64, constantTimeEqual } from './bytes.util';
export { KeyFileError, saveIdentity, loadIdentity, savePublicIdentity, loadPublicIdentity, createIdentityFiles } from './key-file.store';
export {
  AEAD_KEY_BYTES,
  AEAD_OVERHEAD,
  MAX_MASK_WORDS,
  generateX25519KeyPair,
  x25519KeyPairFromSecret,
  x25519SharedSecret,
  hkdfSha256,
  expandMask,
  addMask,
  aeadSeal,
  aeadOpen,
} from './secagg-primitives.util';
