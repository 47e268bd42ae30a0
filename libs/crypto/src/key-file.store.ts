import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { assertBytes, fromBase64, randomBytes, toBase64, toHex } from './bytes.util';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SECRET_KEY_BYTES, X25519_KEY_BYTES } from './crypto.constants';
import { assertEncryptionKeyPair, assertIdentity, assertSigningKeyPair, generateIdentity, Identity, PublicIdentity, publicIdentity } from './identity.keys';

/** `format` field of a secret identity file. */
export const IDENTITY_FILE_FORMAT = 'medfed-identity';
/** `format` field of a public identity file. */
export const PUBLIC_IDENTITY_FILE_FORMAT = 'medfed-public-identity';
/** The only file layout version this code reads and writes. */
export const KEY_FILE_VERSION = 1;
/** Permissions of a secret identity file: owner read/write only. */
const SECRET_FILE_MODE = 0o600;
/** Permissions of a public identity file: anyone may read it. */
const PUBLIC_FILE_MODE = 0o644;
/** Permissions of a directory created to hold key files. */
const KEY_DIR_MODE = 0o700;

/** A key file could not be written or read; the message names the file and the problem, never a key. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';

  /**
   * @param path - the key file concerned
   * @param problem - what is wrong, for a human
   * @param options - the underlying error, if any
   */
  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`key file ${path}: ${problem}`, options);
  }
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

/** Writes `text` to `path` through a temporary file in the same directory, so readers never see half a file. */
function writeAtomically(path: string, text: string, mode: number, overwrite: boolean): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: KEY_DIR_MODE });
  } catch (error) {
    throw new KeyFileError(path, `cannot create its directory (${errorCode(error)})`, { cause: error });
  }
  if (!overwrite) {
    try {
      // 'wx' = O_CREAT | O_EXCL: refuses atomically if the file exists, with no check-then-write race.
      writeFileSync(path, text, { mode, flag: 'wx' });
      chmodSync(path, mode); // the umask may have cleared bits of `mode`
      return;
    } catch (error) {
      if (errorCode(error) === 'EEXIST') {
        throw new KeyFileError(path, 'already exists; refusing to overwrite it (pass { overwrite: true } to replace it)', {
          cause: error,
        });
      }
      throw new KeyFileError(path, `cannot be written (${errorCode(error)})`, { cause: error });
    }
  }
  const temporary = join(dirname(path), `.${basename(path)}.${toHex(randomBytes(6))}.tmp`);
  try {
    writeFileSync(temporary, text, { mode, flag: 'wx' });
    chmodSync(temporary, mode);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new KeyFileError(path, `cannot be written (${errorCode(error)})`, { cause: error });
  }
}

function readJsonObject(path: string, format: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    throw new KeyFileError(path, code === 'ENOENT' ? 'is missing (no such file)' : `is unreadable (${code})`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new KeyFileError(path, 'is not JSON', { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KeyFileError(path, `is not a JSON object, so not a "${format}" file`);
  }
  const record = parsed as Record<string, unknown>;
  if (record['format'] !== format) {
    const found = typeof record['format'] === 'string' ? `"${record['format'].slice(0, 40)}"` : 'no format field';
    throw new KeyFileError(path, `has the wrong format: expected "${format}", found ${found}`);
  }
  if (record['version'] !== KEY_FILE_VERSION) {
    throw new KeyFileError(
      path,
      `has unsupported version ${JSON.stringify(record['version'] ?? null)} (this build reads version ${KEY_FILE_VERSION})`,
    );
  }
  return record;
}

function readKey(path: string, container: unknown, field: string, expectedBytes: number): Uint8Array {
  const [parent, name] = field.includes('.') ? field.split('.') : [undefined, field];
  const holder = parent === undefined ? container : (container as Record<string, unknown>)[parent];
  if (typeof holder !== 'object' || holder === null) {
    throw new KeyFileError(path, `field "${parent}" is missing or not an object`);
  }
  const text = (holder as Record<string, unknown>)[name];
  if (typeof text !== 'string') throw new KeyFileError(path, `field "${field}" is missing or not a string`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(text);
  } catch (error) {
    throw new KeyFileError(path, `field "${field}" is not canonical base64`, { cause: error });
  }
  if (bytes.length !== expectedBytes) {
    throw new KeyFileError(path, `field "${field}" must be ${expectedBytes} bytes, got ${bytes.length} bytes`);
  }
  return bytes;
}

/**
 * Saves an identity, secret keys included, as JSON
 * `{format: "medfed-identity", version: 1, signing: {publicKey, secretKey}, encryption: {publicKey, secretKey}}`
 * with base64 keys, file mode 0600, creating the parent directory (mode 0700) if needed.
 * @param path - where to write
 * @param identity - checked first (`TypeError` if malformed or if a public key does not match its secret key)
 * @param opts.overwrite - replace an existing file (atomically); default `false`, which refuses with `KeyFileError`
 */
export function saveIdentity(path: string, identity: Identity, opts: { overwrite?: boolean } = {}): void {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`path must be a non-empty string, got ${typeof path}`);
  assertIdentity(identity);
  const file = {
    format: IDENTITY_FILE_FORMAT,
    version: KEY_FILE_VERSION,
    signing: { publicKey: toBase64(identity.signing.publicKey), secretKey: toBase64(identity.signing.secretKey) },
    encryption: {
      publicKey: toBase64(identity.encryption.publicKey),
      secretKey: toBase64(identity.encryption.secretKey),
    },
  };
  writeAtomically(path, `${JSON.stringify(file, null, 2)}\n`, SECRET_FILE_MODE, opts.overwrite === true);
}

/**
 * Loads an identity saved by `saveIdentity`, checking everything: `KeyFileError` naming the path and
 * the problem if the file is missing, unreadable, not JSON, of the wrong format or version, has a key
 * of the wrong length or encoding, or a public key that does not belong to its secret key.
 */
export function loadIdentity(path: string): Identity {
  const record = readJsonObject(path, IDENTITY_FILE_FORMAT);
  const identity: Identity = {
    signing: {
      publicKey: readKey(path, record, 'signing.publicKey', ED25519_PUBLIC_KEY_BYTES),
      secretKey: readKey(path, record, 'signing.secretKey', ED25519_SECRET_KEY_BYTES),
    },
    encryption: {
      publicKey: readKey(path, record, 'encryption.publicKey', X25519_KEY_BYTES),
      secretKey: readKey(path, record, 'encryption.secretKey', X25519_KEY_BYTES),
    },
  };
  for (const [pair, check] of [
    ['signing', () => assertSigningKeyPair(identity.signing, 'signing')],
    ['encryption', () => assertEncryptionKeyPair(identity.encryption, 'encryption')],
  ] as const) {
    try {
      check();
    } catch (error) {
      throw new KeyFileError(path, `${pair} keys do not match: ${(error as Error).message}`, { cause: error });
    }
  }
  return identity;
}

/**
 * Saves the public half of an identity as JSON
 * `{format: "medfed-public-identity", version: 1, signingPublicKey, encryptionPublicKey}` (base64),
 * file mode 0644, creating the parent directory if needed and replacing any existing file atomically.
 */
export function savePublicIdentity(path: string, id: PublicIdentity): void {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`path must be a non-empty string, got ${typeof path}`);
  if (typeof id !== 'object' || id === null) throw new TypeError(`id must be a PublicIdentity, got ${id === null ? 'null' : typeof id}`);
  assertBytes(id.signingPublicKey, 'id.signingPublicKey', ED25519_PUBLIC_KEY_BYTES);
  assertBytes(id.encryptionPublicKey, 'id.encryptionPublicKey', X25519_KEY_BYTES);
  const file = {
    format: PUBLIC_IDENTITY_FILE_FORMAT,
    version: KEY_FILE_VERSION,
    signingPublicKey: toBase64(id.signingPublicKey),
    encryptionPublicKey: toBase64(id.encryptionPublicKey),
  };
  writeAtomically(path, `${JSON.stringify(file, null, 2)}\n`, PUBLIC_FILE_MODE, true);
}

/**
 * Loads a public identity saved by `savePublicIdentity`; `KeyFileError` naming the path and the
 * problem if the file is missing, unreadable, not JSON, of the wrong format or version, or has a key
 * of the wrong length or encoding.
 */
export function loadPublicIdentity(path: string): PublicIdentity {
  const record = readJsonObject(path, PUBLIC_IDENTITY_FILE_FORMAT);
  return {
    signingPublicKey: readKey(path, record, 'signingPublicKey', ED25519_PUBLIC_KEY_BYTES),
    encryptionPublicKey: readKey(path, record, 'encryptionPublicKey', X25519_KEY_BYTES),
  };
}

/**
 * Makes a fresh identity and writes both halves: the secret key file (0600, never overwritten) and
 * the public file that others pin or enrol. Returns the identity.
 */
export function createIdentityFiles(identityPath: string, publicIdentityPath: string): Identity {
  const identity = generateIdentity();
  saveIdentity(identityPath, identity);
  savePublicIdentity(publicIdentityPath, publicIdentity(identity));
  return identity;
}
