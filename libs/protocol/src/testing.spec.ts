import { generateIdentity } from '@medfed/crypto';
import { EnvelopeCodec } from './envelope';
import { MessageKind } from './message-kind';
import { ProtocolError } from './protocol-error';
import { encodeTensors } from './tensor-codec';
import { craftFrame, encodeTensorsUnchecked, sampleBody } from './testing';

describe('protocol test doubles', () => {
  const node = generateIdentity();
  const coordinator = generateIdentity();
  const recipient = { signingPublicKey: coordinator.signing.publicKey, encryptionPublicKey: coordinator.encryption.publicKey };
  const codec = (): EnvelopeCodec => new EnvelopeCodec({ identity: coordinator, maxFrameBytes: 1 << 20 });
  const decode = (frame: Buffer) => codec().decode(frame, { isKnownSender: () => true });

  it('encodeTensorsUnchecked writes the same bytes as encodeTensors for finite tensors', () => {
    const tensors = [
      { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
      { shape: [], data: Float32Array.from([-0.5]) },
      { shape: [1, 1, 2], data: Float32Array.from([7, 8]) },
    ];

    expect(Buffer.from(encodeTensorsUnchecked(tensors)).equals(Buffer.from(encodeTensors(tensors)))).toBe(true);
  });

  it('craftFrame builds a frame the codec accepts when its parts are valid', () => {
    const frame = craftFrame({ sender: node, recipient, kind: MessageKind.TrainResult, body: sampleBody(MessageKind.TrainResult), tensors: [{ shape: [1], data: Float32Array.from([2]) }] });

    const opened = decode(frame);

    expect(opened.header.sealed).toBe(true);
    expect(Array.from(opened.tensors[0].data)).toEqual([2]);
  });

  it.each<[string, Parameters<typeof craftFrame>[0], string]>([
    ['NaN weights', { sender: node, recipient, kind: MessageKind.TrainResult, body: sampleBody(MessageKind.TrainResult), tensors: [{ shape: [1], data: Float32Array.from([Number.NaN]) }] }, 'NON_FINITE'],
    ['an invalid body', { sender: node, recipient, kind: MessageKind.Hello, body: { nodeName: '' } }, 'INVALID_BODY'],
    ['an old sentAt', { sender: node, recipient, kind: MessageKind.Hello, body: sampleBody(MessageKind.Hello), header: { sentAt: 0 } }, 'STALE'],
  ])('craftFrame can build a frame with %s', (_label, opts, code) => {
    expect(() => decode(craftFrame(opts))).toThrow(expect.objectContaining({ code }) as ProtocolError);
  });
});
