import { createDecipheriv, createHash, createHmac, createCipheriv, diffieHellman } from 'node:crypto';
import nacl from 'tweetnacl';
import chachaVector from '../test-vectors/rfc8439-chacha20-poly1305.json';
import x25519Vectors from '../test-vectors/rfc7748-x25519.json';
import { concatBytes, fromHex, toHex } from './bytes.util';
import { x25519PrivateKeyObject, x25519PublicKeyObject } from './node-keys.util';
import { describeSealerContract, NACL_SEALER_LAYOUT, NODE_SEALER_LAYOUT, testIdentity } from './testing';
import { defaultSealer, nodeSealer, tweetnaclSealer } from './x25519.sealer';

describeSealerContract('nodeSealer', nodeSealer, NODE_SEALER_LAYOUT);
describeSealerContract('tweetnaclSealer', tweetnaclSealer, NACL_SEALER_LAYOUT);

const text = (value: string) => new TextEncoder().encode(value);

function nodeX25519(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  return new Uint8Array(diffieHellman({ privateKey: x25519PrivateKeyObject(scalar), publicKey: x25519PublicKeyObject(u) }));
}

// tweetnacl's field arithmetic runs about 15x slower inside jest's VM context (~40 ms per X25519),
// so it runs only the first iteration of the iterated test; node:crypto runs all 1,000.
describe.each([
  ['node:crypto', nodeX25519, 1000],
  ['tweetnacl', (scalar: Uint8Array, u: Uint8Array) => nacl.scalarMult(scalar, u), 1],
])('X25519 through %s (RFC 7748)', (_, x25519, maxIterations) => {
  it.each(x25519Vectors.scalarMultiplication.map((vector, index) => [index + 1, vector] as const))(
    '§5.2 scalar multiplication vector %i',
    (__, vector) => {
      expect(toHex(x25519(fromHex(vector.scalar), fromHex(vector.u)))).toBe(vector.output);
    },
  );

  it(`§5.2 iterated test, up to ${maxIterations} iteration(s)`, () => {
    // Arrange
    let k = fromHex(x25519Vectors.iterated.start);
    let u = fromHex(x25519Vectors.iterated.start);
    const results = new Map<number, string>();
    // Act
    for (let iteration = 1; iteration <= maxIterations; iteration += 1) {
      [k, u] = [x25519(k, u), k];
      results.set(iteration, toHex(k));
    }
    // Assert
    const expectations = x25519Vectors.iterated.after.filter((expected) => expected.iterations <= maxIterations);
    expect(expectations.length).toBeGreaterThan(0);
    for (const expected of expectations) {
      expect(results.get(expected.iterations)).toBe(expected.k);
    }
  });

  it('§6.1 Diffie-Hellman: both parties reach the published shared secret', () => {
    const dh = x25519Vectors.diffieHellman;
    const basePoint = fromHex(x25519Vectors.iterated.start);
    expect(toHex(x25519(fromHex(dh.alicePrivate), basePoint))).toBe(dh.alicePublic);
    expect(toHex(x25519(fromHex(dh.bobPrivate), basePoint))).toBe(dh.bobPublic);
    expect(toHex(x25519(fromHex(dh.alicePrivate), fromHex(dh.bobPublic)))).toBe(dh.shared);
    expect(toHex(x25519(fromHex(dh.bobPrivate), fromHex(dh.alicePublic)))).toBe(dh.shared);
  });
});

describe("node:crypto's chacha20-poly1305 (the nodeSealer cipher)", () => {
  it('matches the RFC 8439 §2.8.2 AEAD test vector', () => {
    // Arrange
    const cipher = createCipheriv('chacha20-poly1305', fromHex(chachaVector.key), fromHex(chachaVector.nonce), { authTagLength: 16 });
    cipher.setAAD(fromHex(chachaVector.aad), { plaintextLength: chachaVector.plaintextUtf8.length });
    // Act
    const ciphertext = concatBytes(cipher.update(text(chachaVector.plaintextUtf8)), cipher.final());
    // Assert
    expect(toHex(ciphertext)).toBe(chachaVector.ciphertext);
    expect(toHex(cipher.getAuthTag())).toBe(chachaVector.tag);
  });
});

describe('nodeSealer wire format', () => {
  it('is version 0x01 || eph || nonce || ChaCha20-Poly1305 under HKDF-SHA256(X25519, eph || recipient, "medfed/seal/v1")', () => {
    // Arrange
    const recipient = testIdentity('format/node').encryption;
    const aad = text('aad');
    const plaintext = text('format check');
    const sealed = nodeSealer.seal(plaintext, recipient.publicKey, aad);
    // Act: open by hand, with tweetnacl's X25519 and HKDF (RFC 5869) written out with HMAC
    const eph = sealed.subarray(1, 33);
    const nonce = sealed.subarray(33, 45);
    const shared = nacl.scalarMult(recipient.secretKey, eph);
    const prk = createHmac('sha256', concatBytes(eph, recipient.publicKey)).update(shared).digest();
    const key = createHmac('sha256', prk).update(text('medfed/seal/v1')).update(new Uint8Array([1])).digest();
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    decipher.setAAD(aad, { plaintextLength: sealed.length - 61 });
    const opened = concatBytes(decipher.update(sealed.subarray(45, sealed.length - 16)), decipher.final());
    // Assert
    expect(sealed[0]).toBe(0x01);
    expect(new TextDecoder().decode(opened)).toBe('format check');
  });
});

describe('tweetnaclSealer wire format', () => {
  it('is version 0x02 || eph || box(plaintext, nonce = SHA-512(eph || recipient || aad)[0..24])', () => {
    // Arrange
    const recipient = testIdentity('format/nacl').encryption;
    const aad = text('aad');
    const sealed = tweetnaclSealer.seal(text('format check'), recipient.publicKey, aad);
    // Act: the nonce from node:crypto's SHA-512, the box from tweetnacl's one-shot API
    const eph = sealed.subarray(1, 33);
    const nonce = createHash('sha512').update(eph).update(recipient.publicKey).update(aad).digest().subarray(0, 24);
    const opened = nacl.box.open(sealed.subarray(33), new Uint8Array(nonce), new Uint8Array(eph), recipient.secretKey);
    // Assert
    expect(sealed[0]).toBe(0x02);
    expect(opened).not.toBeNull();
    expect(new TextDecoder().decode(opened as Uint8Array)).toBe('format check');
  });
});

describe('sealer formats', () => {
  const recipient = testIdentity('formats/recipient').encryption;
  const aad = text('aad');

  it('each sealer opens only its own format', () => {
    const fromNode = nodeSealer.seal(text('x'), recipient.publicKey, aad);
    const fromNacl = tweetnaclSealer.seal(text('x'), recipient.publicKey, aad);
    expect(tweetnaclSealer.open(fromNode, recipient, aad)).toBeNull();
    expect(nodeSealer.open(fromNacl, recipient, aad)).toBeNull();
  });

  it('defaultSealer is nodeSealer', () => {
    expect(defaultSealer).toBe(nodeSealer);
  });
});
