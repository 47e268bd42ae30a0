import { toHex } from './bytes.util';
import { defaultSigner, nodeSigner, tweetnaclSigner } from './ed25519.signer';
import { randomBytes } from './bytes.util';
import { generateIdentity } from './identity.keys';
import { describeSignerContract } from './testing';

describeSignerContract('nodeSigner', nodeSigner);
describeSignerContract('tweetnaclSigner', tweetnaclSigner);

describe('Ed25519 implementations cross-check', () => {
  const identity = generateIdentity();
  const messages = [0, 1, 32, 100, 1000].map((size) => randomBytes(size));

  it.each(messages.map((message) => [message.length, message] as const))('give identical signatures on a %i-byte message', (_, message) => {
    expect(toHex(nodeSigner.sign(message, identity.signing.secretKey))).toBe(toHex(tweetnaclSigner.sign(message, identity.signing.secretKey)));
  });

  it.each(messages.map((message) => [message.length, message] as const))("verify each other's signatures on a %i-byte message", (_, message) => {
    const fromNode = nodeSigner.sign(message, identity.signing.secretKey);
    const fromTweetnacl = tweetnaclSigner.sign(message, identity.signing.secretKey);
    expect(tweetnaclSigner.verify(message, fromNode, identity.signing.publicKey)).toBe(true);
    expect(nodeSigner.verify(message, fromTweetnacl, identity.signing.publicKey)).toBe(true);
  });

  it('defaultSigner is nodeSigner', () => {
    expect(defaultSigner).toBe(nodeSigner);
  });
});
