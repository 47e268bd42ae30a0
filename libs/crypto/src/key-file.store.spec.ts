import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concatBytes, toBase64, toHex } from './bytes.util';
import { generateIdentity, Identity, publicIdentity } from './identity.keys';
import { KeyFileError, loadIdentity, loadPublicIdentity, saveIdentity, savePublicIdentity } from './key-file.store';

const onPosix = process.platform !== 'win32';

function expectSameIdentity(actual: Identity, expected: Identity): void {
  expect(toHex(actual.signing.publicKey)).toBe(toHex(expected.signing.publicKey));
  expect(toHex(actual.signing.secretKey)).toBe(toHex(expected.signing.secretKey));
  expect(toHex(actual.encryption.publicKey)).toBe(toHex(expected.encryption.publicKey));
  expect(toHex(actual.encryption.secretKey)).toBe(toHex(expected.encryption.secretKey));
}

/** Runs `act`, which must throw a KeyFileError, and returns it. */
function catchKeyFileError(act: () => unknown): KeyFileError {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(KeyFileError);
    return error as KeyFileError;
  }
  throw new Error('expected a KeyFileError, but nothing was thrown');
}

describe('identity key files', () => {
  let dir: string;
  const identity = generateIdentity();
  const other = generateIdentity();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-crypto-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes a secret identity file whose JSON has been edited by `edit`. */
  function writeEdited(edit: (file: Record<string, unknown>) => unknown): string {
    const path = join(dir, 'edited.json');
    saveIdentity(path, identity);
    const file = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    writeFileSync(path, JSON.stringify(edit(file) ?? file));
    return path;
  }

  describe('saveIdentity / loadIdentity', () => {
    it('round-trips every key', () => {
      const path = join(dir, 'node.identity.json');
      saveIdentity(path, identity);
      expectSameIdentity(loadIdentity(path), identity);
    });

    it('writes the documented JSON layout with base64 keys', () => {
      // Arrange
      const path = join(dir, 'node.identity.json');
      // Act
      saveIdentity(path, identity);
      // Assert
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
        format: 'medfed-identity',
        version: 1,
        signing: { publicKey: toBase64(identity.signing.publicKey), secretKey: toBase64(identity.signing.secretKey) },
        encryption: { publicKey: toBase64(identity.encryption.publicKey), secretKey: toBase64(identity.encryption.secretKey) },
      });
    });

    (onPosix ? it : it.skip)('creates the file with mode 0600, whatever the umask', () => {
      const path = join(dir, 'node.identity.json');
      const previous = process.umask(0o000);
      try {
        saveIdentity(path, identity);
      } finally {
        process.umask(previous);
      }
      expect(statSync(path).mode & 0o777).toBe(0o600);
    });

    it('creates missing parent directories', () => {
      const path = join(dir, 'a', 'b', 'node.identity.json');
      saveIdentity(path, identity);
      expectSameIdentity(loadIdentity(path), identity);
    });

    it('refuses to overwrite an existing file and leaves it untouched', () => {
      // Arrange
      const path = join(dir, 'node.identity.json');
      saveIdentity(path, identity);
      const before = readFileSync(path, 'utf8');
      // Act
      const error = catchKeyFileError(() => saveIdentity(path, other));
      // Assert
      expect(error.path).toBe(path);
      expect(error.message).toBe(`key file ${path}: already exists; refusing to overwrite it (pass { overwrite: true } to replace it)`);
      expect(readFileSync(path, 'utf8')).toBe(before);
    });

    (onPosix ? it : it.skip)('overwrites when asked, keeping mode 0600', () => {
      const path = join(dir, 'node.identity.json');
      writeFileSync(path, 'old', { mode: 0o644 });
      saveIdentity(path, other, { overwrite: true });
      expectSameIdentity(loadIdentity(path), other);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    });

    it('rejects a malformed identity with a TypeError before writing anything', () => {
      const path = join(dir, 'node.identity.json');
      const bad = { ...identity, signing: { ...identity.signing, publicKey: other.signing.publicKey } };
      expect(() => saveIdentity(path, bad)).toThrow(new TypeError('identity.signing.publicKey does not match identity.signing.secretKey'));
      expect(existsSync(path)).toBe(false);
    });
  });

  describe('loadIdentity reports a KeyFileError naming the path and the problem when', () => {
    it('the file is missing', () => {
      const path = join(dir, 'nope.json');
      const error = catchKeyFileError(() => loadIdentity(path));
      expect(error.name).toBe('KeyFileError');
      expect(error.path).toBe(path);
      expect(error.message).toBe(`key file ${path}: is missing (no such file)`);
    });

    it('the path cannot be read as a file', () => {
      const path = join(dir, 'a-directory');
      mkdirSync(path);
      expect(catchKeyFileError(() => loadIdentity(path)).message).toBe(`key file ${path}: is unreadable (EISDIR)`);
    });

    it.each([
      ['it is not JSON', () => '{"format": "medfed-identity",', /: is not JSON$/],
      ['it is a JSON array', () => '[]', /: is not a JSON object, so not a "medfed-identity" file$/],
      ['it has no format', () => '{"version": 1}', /: has the wrong format: expected "medfed-identity", found no format field$/],
    ])('%s', (_, content, message) => {
      const path = join(dir, 'bad.json');
      writeFileSync(path, content());
      const error = catchKeyFileError(() => loadIdentity(path));
      expect(error.path).toBe(path);
      expect(error.message).toMatch(message);
    });

    it('it is a public identity file', () => {
      const path = join(dir, 'public.json');
      savePublicIdentity(path, publicIdentity(identity));
      expect(catchKeyFileError(() => loadIdentity(path)).message).toBe(
        `key file ${path}: has the wrong format: expected "medfed-identity", found "medfed-public-identity"`,
      );
    });

    it.each([
      ['its version is newer', (file: Record<string, unknown>) => ({ ...file, version: 2 }), /: has unsupported version 2 \(this build reads version 1\)$/],
      ['its version is missing', (file: Record<string, unknown>) => ({ ...file, version: undefined }), /: has unsupported version null/],
      ['its version is a string', (file: Record<string, unknown>) => ({ ...file, version: '1' }), /: has unsupported version "1"/],
      ['a key pair is missing', (file: Record<string, unknown>) => ({ ...file, encryption: undefined }), /: field "encryption" is missing or not an object$/],
      [
        'a key is missing',
        (file: Record<string, unknown>) => ({ ...file, signing: { publicKey: toBase64(identity.signing.publicKey) } }),
        /: field "signing.secretKey" is missing or not a string$/,
      ],
      [
        'a key is not canonical base64',
        (file: Record<string, unknown>) => ({ ...file, encryption: { publicKey: 'not base64!', secretKey: toBase64(identity.encryption.secretKey) } }),
        /: field "encryption.publicKey" is not canonical base64$/,
      ],
      [
        'the signing secret key is only the 32-byte seed',
        (file: Record<string, unknown>) => ({
          ...file,
          signing: { publicKey: toBase64(identity.signing.publicKey), secretKey: toBase64(identity.signing.secretKey.subarray(0, 32)) },
        }),
        /: field "signing.secretKey" must be 64 bytes, got 32 bytes$/,
      ],
      [
        'an encryption key has the wrong length',
        (file: Record<string, unknown>) => ({ ...file, encryption: { publicKey: toBase64(new Uint8Array(33)), secretKey: toBase64(identity.encryption.secretKey) } }),
        /: field "encryption.publicKey" must be 32 bytes, got 33 bytes$/,
      ],
      [
        'the signing public key belongs to another identity',
        (file: Record<string, unknown>) => ({ ...file, signing: { publicKey: toBase64(other.signing.publicKey), secretKey: toBase64(identity.signing.secretKey) } }),
        /: signing keys do not match: signing.publicKey does not match signing.secretKey$/,
      ],
      [
        'the halves of the signing secret key disagree',
        (file: Record<string, unknown>) => ({
          ...file,
          signing: {
            publicKey: toBase64(other.signing.publicKey),
            secretKey: toBase64(concatBytes(identity.signing.secretKey.subarray(0, 32), other.signing.publicKey)),
          },
        }),
        /: signing keys do not match: signing.secretKey: its last 32 bytes are not the public key of its first 32 bytes/,
      ],
      [
        'the encryption public key belongs to another identity',
        (file: Record<string, unknown>) => ({ ...file, encryption: { publicKey: toBase64(other.encryption.publicKey), secretKey: toBase64(identity.encryption.secretKey) } }),
        /: encryption keys do not match: encryption.publicKey does not match encryption.secretKey$/,
      ],
    ])('%s', (_, edit, message) => {
      // Arrange
      const path = writeEdited(edit);
      // Act
      const error = catchKeyFileError(() => loadIdentity(path));
      // Assert: the path and problem are named, and no secret key is echoed
      expect(error.path).toBe(path);
      expect(error.message.startsWith(`key file ${path}: `)).toBe(true);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain(toBase64(identity.signing.secretKey));
      expect(error.message).not.toContain(toBase64(identity.encryption.secretKey));
    });
  });

  describe('savePublicIdentity / loadPublicIdentity', () => {
    it('round-trips both public keys in the documented layout', () => {
      // Arrange
      const path = join(dir, 'peers', 'hospital-a.public.json');
      const shared = publicIdentity(identity);
      // Act
      savePublicIdentity(path, shared);
      const loaded = loadPublicIdentity(path);
      // Assert
      expect(toHex(loaded.signingPublicKey)).toBe(toHex(identity.signing.publicKey));
      expect(toHex(loaded.encryptionPublicKey)).toBe(toHex(identity.encryption.publicKey));
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
        format: 'medfed-public-identity',
        version: 1,
        signingPublicKey: toBase64(identity.signing.publicKey),
        encryptionPublicKey: toBase64(identity.encryption.publicKey),
      });
    });

    (onPosix ? it : it.skip)('writes a world-readable 0644 file and replaces an existing one', () => {
      const path = join(dir, 'hospital-a.public.json');
      savePublicIdentity(path, publicIdentity(identity));
      savePublicIdentity(path, publicIdentity(other));
      expect(toHex(loadPublicIdentity(path).signingPublicKey)).toBe(toHex(other.signing.publicKey));
      expect(statSync(path).mode & 0o777).toBe(0o644);
    });

    it('rejects keys of the wrong length with a TypeError before writing', () => {
      const path = join(dir, 'hospital-a.public.json');
      const bad = { ...publicIdentity(identity), encryptionPublicKey: new Uint8Array(31) };
      expect(() => savePublicIdentity(path, bad)).toThrow(new TypeError('id.encryptionPublicKey must be 32 bytes, got 31 bytes'));
      expect(existsSync(path)).toBe(false);
    });

    it('reports a secret identity file as the wrong format, without echoing it', () => {
      const path = join(dir, 'node.identity.json');
      saveIdentity(path, identity);
      const error = catchKeyFileError(() => loadPublicIdentity(path));
      expect(error.message).toBe(`key file ${path}: has the wrong format: expected "medfed-public-identity", found "medfed-identity"`);
    });

    it.each([
      ['missing', null, /: is missing \(no such file\)$/],
      ['a short signing key', { format: 'medfed-public-identity', version: 1, signingPublicKey: 'AAAA', encryptionPublicKey: toBase64(new Uint8Array(32)) }, /: field "signingPublicKey" must be 32 bytes, got 3 bytes$/],
      ['a missing encryption key', { format: 'medfed-public-identity', version: 1, signingPublicKey: toBase64(new Uint8Array(32)) }, /: field "encryptionPublicKey" is missing or not a string$/],
    ])('reports a file that is %s', (_, content, message) => {
      const path = join(dir, 'hospital-a.public.json');
      if (content !== null) writeFileSync(path, JSON.stringify(content));
      expect(catchKeyFileError(() => loadPublicIdentity(path)).message).toMatch(message);
    });
  });
});
