import { createHash } from 'node:crypto';
import { Identity, defaultSealer, defaultSigner, generateIdentity, sha256, toBase64, tweetnaclSealer, tweetnaclSigner } from '@medfed/crypto';
import { EnvelopeHeader } from './dto/envelope-header.dto';
import { EnvelopeCodec, EnvelopeCodecOptions, MIN_FRAME_BYTES, OutgoingMessage, peekHeader } from './envelope';
import { MessageKind } from './message-kind';
import { ProtocolError } from './protocol-error';
import { ReplayGuard } from './replay-guard';
import { WeightTensor, encodeTensors } from './tensor-codec';
import { sampleBody } from './testing';

const T0 = 1_700_000_000_000;
const MAX_FRAME = 1 << 20;

const node = generateIdentity();
const coordinator = generateIdentity();
const stranger = generateIdentity();
const b64 = (key: Uint8Array): string => toBase64(key);
const known = new Set([b64(node.signing.publicKey), b64(coordinator.signing.publicKey)]);
const isKnownSender = (sender: string): boolean => known.has(sender);

function makeCodec(identity: Identity, clock: { now: number }, extra: Partial<EnvelopeCodecOptions> = {}): EnvelopeCodec {
  return new EnvelopeCodec({ identity, maxFrameBytes: MAX_FRAME, now: () => clock.now, ...extra });
}

function to(identity: Identity): OutgoingMessage<unknown>['recipient'] {
  return { signingPublicKey: identity.signing.publicKey, encryptionPublicKey: identity.encryption.publicKey };
}

const weights = (): WeightTensor[] => [
  { shape: [2, 3], data: Float32Array.from([0.125, -0.5, 1.5, 2.25, -3, 4]) },
  { shape: [3], data: Float32Array.from([7.75, -8.5, 9]) },
];

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Splits a frame by the documented layout, independently of the codec. */
function split(frame: Uint8Array): { header: EnvelopeHeader; headerBytes: Buffer; payload: Buffer; signature: Buffer } {
  const buf = Buffer.from(frame);
  const h = buf.readUInt32BE(4);
  const p = buf.readUInt32BE(8 + h);
  const headerBytes = buf.subarray(8, 8 + h);
  return {
    header: JSON.parse(headerBytes.toString('utf8')) as EnvelopeHeader,
    headerBytes,
    payload: buf.subarray(12 + h, 12 + h + p),
    signature: buf.subarray(12 + h + p),
  };
}

/** Builds and signs a frame from parts, the way a (possibly malicious) sender would. */
function assemble(headerBytes: Uint8Array, payload: Uint8Array, signer: Identity = node): Buffer {
  const prefix = Buffer.concat([Buffer.from('MFD\x01', 'latin1'), u32(headerBytes.length), headerBytes, u32(payload.length), payload]);
  return Buffer.concat([prefix, defaultSigner.sign(sha256(prefix), signer.signing.secretKey)]);
}

function plaintextOf(body: unknown, blob: Uint8Array = encodeTensors([])): Buffer {
  const json = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  return Buffer.concat([u32(json.length), json, blob]);
}

function headerJson(overrides: Partial<Record<keyof EnvelopeHeader, unknown>> & Record<string, unknown>): Buffer {
  const header = {
    v: 1,
    kind: 'hello',
    sender: b64(node.signing.publicKey),
    recipient: b64(coordinator.signing.publicKey),
    studyId: null,
    round: null,
    nonce: toBase64(Buffer.alloc(16, 5)),
    sentAt: T0,
    sealed: false,
    ...overrides,
  };
  return Buffer.from(JSON.stringify(header), 'utf8');
}

function codeOf(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return 'NO_ERROR';
}

describe('EnvelopeCodec', () => {
  let clock: { now: number };
  let nodeCodec: EnvelopeCodec;
  let coordinatorCodec: EnvelopeCodec;

  beforeEach(() => {
    clock = { now: T0 };
    nodeCodec = makeCodec(node, clock);
    coordinatorCodec = makeCodec(coordinator, clock);
  });

  const helloFrame = (): Buffer =>
    nodeCodec.encode({ kind: MessageKind.Hello, recipient: to(coordinator), body: sampleBody(MessageKind.Hello), seal: false });
  const trainResultFrame = (tensors = weights()): Buffer =>
    nodeCodec.encode({ kind: MessageKind.TrainResult, recipient: to(coordinator), body: sampleBody(MessageKind.TrainResult), tensors, seal: true });

  describe('round trips', () => {
    it('opens an unsealed hello with the header the sender set', () => {
      // Arrange
      const frame = helloFrame();

      // Act
      const opened = coordinatorCodec.decode(frame, { isKnownSender });

      // Assert
      expect(opened.body).toEqual(sampleBody(MessageKind.Hello));
      expect(opened.tensors).toEqual([]);
      expect(opened.header).toMatchObject({
        v: 1,
        kind: 'hello',
        sender: b64(node.signing.publicKey),
        recipient: b64(coordinator.signing.publicKey),
        studyId: null,
        round: null,
        sentAt: T0,
        sealed: false,
      });
      expect(Buffer.from(opened.header.nonce, 'base64')).toHaveLength(16);
      expect(Buffer.from(opened.senderKey).equals(Buffer.from(node.signing.publicKey))).toBe(true);
      expect(opened.frameBytes).toBe(frame.length);
      expect(opened.frameSha256).toBe(createHash('sha256').update(frame).digest('hex'));
    });

    it('opens a sealed train task with its weights, and fills studyId and round from the body', () => {
      const body = sampleBody(MessageKind.TrainTask);
      const frame = coordinatorCodec.encode({ kind: MessageKind.TrainTask, recipient: to(node), body, tensors: weights(), seal: true });

      const opened = nodeCodec.decode(frame, { isKnownSender, expectKinds: [MessageKind.TrainTask, MessageKind.EvaluateTask] });

      expect(opened.body).toEqual(body);
      expect(opened.header).toMatchObject({ kind: 'train-task', studyId: 'study-1', round: 1, sealed: true });
      expect(opened.tensors.map((t) => t.shape)).toEqual([[2, 3], [3]]);
      expect(Array.from(opened.tensors[0].data)).toEqual([0.125, -0.5, 1.5, 2.25, -3, 4]);
      expect(Array.from(opened.tensors[1].data)).toEqual([7.75, -8.5, 9]);
    });

    it('round-trips every kind', () => {
      for (const kind of Object.values(MessageKind)) {
        const sealed = ['train-task', 'evaluate-task', 'train-result', 'evaluate-result', 'secagg-up', 'secagg-down', 'statistics-task', 'statistics-result'].includes(kind);
        const frame = nodeCodec.encode({ kind, recipient: to(coordinator), body: sampleBody(kind), seal: sealed });

        const opened = coordinatorCodec.decode(frame, { isKnownSender });

        expect(opened.body).toEqual(sampleBody(kind));
        expect(opened.header.sealed).toBe(sealed);
      }
    });

    it('decodes a frame that starts at an odd offset of its buffer, and an ArrayBuffer', () => {
      const frame = trainResultFrame();
      const backing = Buffer.alloc(frame.length + 3);
      frame.copy(backing, 1);
      const unaligned = backing.subarray(1, 1 + frame.length);
      const arrayBuffer = trainResultFrame().buffer.slice(0);

      const opened = coordinatorCodec.decode(unaligned, { isKnownSender });
      const fromArrayBuffer = coordinatorCodec.decode(arrayBuffer, { isKnownSender });

      expect(Array.from(opened.tensors[1].data)).toEqual([7.75, -8.5, 9]);
      expect(fromArrayBuffer.header.kind).toBe('train-result');
    });

    it('interoperates with the tweetnacl signer and sealer', () => {
      const sender = makeCodec(node, clock, { signer: tweetnaclSigner, sealer: tweetnaclSealer });
      const receiver = makeCodec(coordinator, clock, { signer: tweetnaclSigner, sealer: tweetnaclSealer });
      const frame = sender.encode({ kind: MessageKind.TrainResult, recipient: to(coordinator), body: sampleBody(MessageKind.TrainResult), tensors: weights(), seal: true });

      expect(receiver.decode(frame, { isKnownSender }).tensors).toHaveLength(2);
    });
  });

  describe('frame layout', () => {
    it('is magic | u32 H | header | u32 P | payload | Ed25519 over SHA-256 of the rest', () => {
      const frame = helloFrame();

      const { header, headerBytes, payload, signature } = split(frame);

      expect(frame.subarray(0, 4).toString('latin1')).toBe('MFD\x01');
      expect(header.kind).toBe('hello');
      expect(8 + headerBytes.length + 4 + payload.length + 64).toBe(frame.length);
      // Verified with the second, independent Ed25519 implementation.
      expect(tweetnaclSigner.verify(sha256(frame.subarray(0, frame.length - 64)), signature, node.signing.publicKey)).toBe(true);
      const bodyLength = payload.readUInt32BE(0);
      expect(JSON.parse(payload.subarray(4, 4 + bodyLength).toString('utf8'))).toEqual(sampleBody(MessageKind.Hello));
      expect(Array.from(payload.subarray(4 + bodyLength))).toEqual([0, 0, 0, 0]);
    });

    it('never carries the plaintext body or weights of a sealed frame', () => {
      // Arrange: distinctive body text and weight bytes.
      const body = { ...sampleBody(MessageKind.TrainResult), backend: 'zz-marker-backend' };
      const tensors = [{ shape: [4], data: Float32Array.from([1234.5678, -8765.4321, 3.14159, 2.71828]) }];
      const plainHello = helloFrame();

      // Act
      const frame = nodeCodec.encode({ kind: MessageKind.TrainResult, recipient: to(coordinator), body, tensors, seal: true });

      // Assert: the unsealed control does show its body, the sealed frame shows neither body nor weights.
      expect(plainHello.includes(Buffer.from('"nodeName":"hospital-a"'))).toBe(true);
      expect(frame.includes(Buffer.from(JSON.stringify(body)))).toBe(false);
      expect(frame.includes(Buffer.from('zz-marker-backend'))).toBe(false);
      expect(frame.includes(Buffer.from('meanLoss'))).toBe(false);
      expect(frame.includes(Buffer.from(tensors[0].data.buffer))).toBe(false);
      expect(frame.includes(Buffer.from(tensors[0].data.buffer, 0, 4))).toBe(false);
    });
  });

  describe('refuses', () => {
    it.each([
      ['a string', 'MFD frame'],
      ['null', null],
      ['undefined', undefined],
      ['a number', 42],
      ['an object', { type: 'Buffer', data: [1, 2, 3] }],
      ['an array of bytes', [0x4d, 0x46, 0x44, 1]],
    ])('%s as MALFORMED', (_label, frame) => {
      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('MALFORMED');
    });

    it('random bytes of many lengths as MALFORMED', () => {
      const codes = new Set<string>();
      for (let length = 0; length < 400; length += 7) {
        codes.add(codeOf(() => coordinatorCodec.decode(Buffer.from(Array.from({ length }, (_, i) => (i * 131 + length) & 0xff)), { isKnownSender })));
      }

      expect([...codes]).toEqual(['MALFORMED']);
    });

    it('random bytes behind a valid magic as MALFORMED', () => {
      const frame = Buffer.concat([Buffer.from('MFD\x01', 'latin1'), Buffer.alloc(200, 0x7b)]);

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('MALFORMED');
    });

    it.each<[string, (frame: Buffer) => Buffer]>([
      ['a wrong magic', (f) => Buffer.concat([Buffer.from('MFD\x02', 'latin1'), f.subarray(4)])],
      ['a header length past the end', (f) => Buffer.concat([f.subarray(0, 4), u32(f.length), f.subarray(8)])],
      ['a payload length off by one', (f) => {
        const copy = Buffer.from(f);
        const h = copy.readUInt32BE(4);
        copy.writeUInt32BE(copy.readUInt32BE(8 + h) + 1, 8 + h);
        return copy;
      }],
      ['a truncated frame', (f) => f.subarray(0, f.length - 1)],
      ['an extra trailing byte', (f) => Buffer.concat([f, Buffer.from([0])])],
    ])('%s as MALFORMED', (_label, damage) => {
      expect(codeOf(() => coordinatorCodec.decode(damage(helloFrame()), { isKnownSender }))).toBe('MALFORMED');
    });

    it('a header that is not JSON, even when properly signed, as MALFORMED', () => {
      const frame = assemble(Buffer.from('{"v":1,'), plaintextOf(sampleBody(MessageKind.Hello)));

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('MALFORMED');
    });

    it('a header that is a JSON array as MALFORMED', () => {
      const frame = assemble(Buffer.from('[1]'), plaintextOf(sampleBody(MessageKind.Hello)));

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('MALFORMED');
    });

    it('a frame bigger than maxFrameBytes as OVERSIZED, before parsing it', () => {
      const small = makeCodec(coordinator, clock, { maxFrameBytes: 1000 });

      expect(codeOf(() => small.decode(Buffer.alloc(1001), { isKnownSender }))).toBe('OVERSIZED');
      expect(codeOf(() => small.decode(Buffer.alloc(1000), { isKnownSender }))).toBe('MALFORMED');
    });

    it('to encode a frame bigger than the limit, as OVERSIZED', () => {
      const small = makeCodec(node, clock, { maxFrameBytes: 2000 });
      const big = [{ shape: [1000], data: new Float32Array(1000) }];

      expect(codeOf(() => small.encode({ kind: MessageKind.TrainResult, recipient: to(coordinator), body: sampleBody(MessageKind.TrainResult), tensors: big, seal: true }))).toBe('OVERSIZED');
      expect(codeOf(() => nodeCodec.encode({ kind: MessageKind.Hello, recipient: to(coordinator), body: sampleBody(MessageKind.Hello), seal: false, maxFrameBytes: 200 }))).toBe('OVERSIZED');
    });

    it('another protocol version as UNSUPPORTED_VERSION, even with other header fields', () => {
      const frame = assemble(headerJson({ v: 2, futureField: 'x' }), plaintextOf(sampleBody(MessageKind.Hello)));

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('UNSUPPORTED_VERSION');
    });

    it('a header failing its DTO as INVALID_BODY naming the field', () => {
      const frame = assemble(headerJson({ nonce: 'short' }), plaintextOf(sampleBody(MessageKind.Hello)));

      expect(() => coordinatorCodec.decode(frame, { isKnownSender })).toThrow(/INVALID_BODY: .*header.*nonce:/);
    });

    it('an unsealed train result, even properly signed, as INVALID_BODY', () => {
      const body = sampleBody(MessageKind.TrainResult);
      const frame = assemble(headerJson({ kind: 'train-result', studyId: 'study-1', round: 1 }), plaintextOf(body, encodeTensors(weights())));

      expect(() => coordinatorCodec.decode(frame, { isKnownSender })).toThrow(/INVALID_BODY: header.sealed: train-result messages must be sealed/);
    });

    it('to encode a task unsealed or a hello sealed, as INVALID_BODY', () => {
      expect(codeOf(() => coordinatorCodec.encode({ kind: MessageKind.TrainTask, recipient: to(node), body: sampleBody(MessageKind.TrainTask), seal: false }))).toBe('INVALID_BODY');
      expect(codeOf(() => nodeCodec.encode({ kind: MessageKind.Hello, recipient: to(coordinator), body: sampleBody(MessageKind.Hello), seal: true }))).toBe('INVALID_BODY');
    });

    it('a frame of a kind not expected on this event as UNEXPECTED_KIND', () => {
      expect(codeOf(() => coordinatorCodec.decode(helloFrame(), { isKnownSender, expectKinds: [MessageKind.TrainResult] }))).toBe('UNEXPECTED_KIND');
    });

    it('a flipped header byte as BAD_SIGNATURE', () => {
      // Arrange: change sentAt by 1 ms so the header stays valid JSON and passes every earlier check.
      const frame = helloFrame();
      const at = frame.indexOf(Buffer.from(`"sentAt":${T0}`)) + `"sentAt":${T0}`.length - 1;
      frame[at] ^= 0x01;

      // Act + Assert
      expect(JSON.parse(split(frame).headerBytes.toString()).sentAt).toBe(T0 + 1);
      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('BAD_SIGNATURE');
    });

    it.each([
      ['a payload byte', (f: Buffer) => f.length - 80],
      ['a signature byte', (f: Buffer) => f.length - 1],
    ])('a flipped %s as BAD_SIGNATURE', (_label, position) => {
      const frame = trainResultFrame();
      frame[position(frame)] ^= 0x80;

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('BAD_SIGNATURE');
    });

    it('a frame claiming another sender as BAD_SIGNATURE', () => {
      const frame = assemble(headerJson({ sender: b64(coordinator.signing.publicKey) }), plaintextOf(sampleBody(MessageKind.Hello)), node);

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('BAD_SIGNATURE');
    });

    it('a frame signed by an unknown key as UNKNOWN_SENDER', () => {
      const strangerCodec = makeCodec(stranger, clock);
      const frame = strangerCodec.encode({ kind: MessageKind.Hello, recipient: to(coordinator), body: sampleBody(MessageKind.Hello), seal: false });

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('UNKNOWN_SENDER');
    });

    it('a frame addressed to another key as WRONG_RECIPIENT', () => {
      const frame = nodeCodec.encode({ kind: MessageKind.TrainResult, recipient: to(stranger), body: sampleBody(MessageKind.TrainResult), seal: true });

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('WRONG_RECIPIENT');
    });

    it('the same frame decoded twice as REPLAYED', () => {
      const frame = trainResultFrame();

      coordinatorCodec.decode(frame, { isKnownSender });

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('REPLAYED');
    });

    it('replays across codecs that share a ReplayGuard', () => {
      const guard = new ReplayGuard(300_000);
      const first = makeCodec(coordinator, clock, { replayGuard: guard });
      const second = makeCodec(coordinator, clock, { replayGuard: guard });
      const frame = helloFrame();

      first.decode(frame, { isKnownSender });

      expect(codeOf(() => second.decode(frame, { isKnownSender }))).toBe('REPLAYED');
    });

    it('records the nonce only after every check passed', () => {
      const frame = trainResultFrame();
      clock.now = T0 + 300_001;
      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('STALE');
      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender: () => false }))).toBe('UNKNOWN_SENDER');
      clock.now = T0;

      expect(coordinatorCodec.decode(frame, { isKnownSender }).header.kind).toBe('train-result');
    });

    it.each([
      ['old', T0 + 300_001],
      ['from the future', T0 - 300_001],
    ])('a frame whose sentAt is too %s as STALE', (_label, receiverNow) => {
      const frame = helloFrame();
      clock.now = receiverNow;

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('STALE');
    });

    it('accepts a frame exactly maxSkewMs old', () => {
      const frame = helloFrame();
      clock.now = T0 + 300_000;

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('NO_ERROR');
    });

    it('a tampered sealed payload re-signed by the sender as DECRYPT_FAILED', () => {
      // Arrange: a sender (or a relay holding the sender's key) edits the ciphertext and re-signs.
      const { headerBytes, payload } = split(trainResultFrame());
      const tampered = Buffer.from(payload);
      tampered[tampered.length - 20] ^= 0x01;
      const frame = assemble(headerBytes, tampered, node);

      // Act + Assert
      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('DECRYPT_FAILED');
    });

    it('a sealed payload moved under another header as DECRYPT_FAILED (the header is the aad)', () => {
      const { header, payload } = split(trainResultFrame());
      const moved = Buffer.from(JSON.stringify({ ...header, nonce: toBase64(Buffer.alloc(16, 1)) }));

      expect(codeOf(() => coordinatorCodec.decode(assemble(moved, payload, node), { isKnownSender }))).toBe('DECRYPT_FAILED');
    });

    it('a sealed frame for another encryption key as DECRYPT_FAILED', () => {
      const frame = nodeCodec.encode({
        kind: MessageKind.TrainResult,
        recipient: { signingPublicKey: coordinator.signing.publicKey, encryptionPublicKey: stranger.encryption.publicKey },
        body: sampleBody(MessageKind.TrainResult),
        seal: true,
      });

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('DECRYPT_FAILED');
    });

    it.each<[string, unknown, RegExp]>([
      ['a bad field', { ...sampleBody(MessageKind.Hello), protocolVersion: 0 }, /INVALID_BODY: .*protocolVersion:/],
      ['an unknown field', { ...sampleBody(MessageKind.Hello), extra: 1 }, /INVALID_BODY: .*extra: unknown field/],
      ['non-JSON', '{"nodeName":', /INVALID_BODY: .*not valid JSON/],
      ['a JSON array', '[]', /INVALID_BODY: .*must be a JSON object/],
    ])('a body with %s as INVALID_BODY', (_label, body, message) => {
      const frame = assemble(headerJson({}), plaintextOf(body));

      expect(() => coordinatorCodec.decode(frame, { isKnownSender })).toThrow(message);
    });

    it('a body whose studyId differs from the header as INVALID_BODY', () => {
      const frame = assemble(headerJson({ kind: 'task-declined', studyId: 'other-study', round: 1 }), plaintextOf(sampleBody(MessageKind.TaskDeclined)));

      expect(() => coordinatorCodec.decode(frame, { isKnownSender })).toThrow(/INVALID_BODY: header.studyId does not match body.studyId/);
    });

    it('a body length past the payload as MALFORMED', () => {
      const payload = plaintextOf(sampleBody(MessageKind.Hello));
      payload.writeUInt32BE(payload.length, 0);

      expect(codeOf(() => coordinatorCodec.decode(assemble(headerJson({}), payload), { isKnownSender }))).toBe('MALFORMED');
    });

    it('garbage tensors as MALFORMED_TENSORS', () => {
      const frame = assemble(headerJson({}), plaintextOf(sampleBody(MessageKind.Hello), Uint8Array.from([1, 0, 0, 0, 1, 9])));

      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('MALFORMED_TENSORS');
    });

    it('NaN weights inside a properly sealed and signed frame as NON_FINITE', () => {
      // Arrange: a node whose training diverged, bypassing encode's own check.
      const headerBytes = headerJson({ kind: 'train-result', studyId: 'study-1', round: 1, sealed: true });
      const blob = Buffer.from('01000000' + '01' + '02000000' + '000000' + '0000803f' + '0000c07f', 'hex');
      const sealed = defaultSealer.seal(plaintextOf(sampleBody(MessageKind.TrainResult), blob), coordinator.encryption.publicKey, headerBytes);

      // Act + Assert
      expect(codeOf(() => coordinatorCodec.decode(assemble(headerBytes, sealed, node), { isKnownSender }))).toBe('NON_FINITE');
    });

    it('to encode NaN weights, as NON_FINITE', () => {
      expect(codeOf(() => trainResultFrame([{ shape: [1], data: Float32Array.from([Number.NaN]) }]))).toBe('NON_FINITE');
    });

    it('to encode an invalid body, as INVALID_BODY naming the field', () => {
      const body = { ...sampleBody(MessageKind.TrainResult), numExamples: 0 };

      expect(() => nodeCodec.encode({ kind: MessageKind.TrainResult, recipient: to(coordinator), body, seal: true })).toThrow(/INVALID_BODY: .*numExamples:/);
    });

    it('to encode a header studyId that contradicts the body, as INVALID_BODY', () => {
      expect(codeOf(() => nodeCodec.encode({ kind: MessageKind.TrainResult, recipient: to(coordinator), studyId: 'other', body: sampleBody(MessageKind.TrainResult), seal: true }))).toBe('INVALID_BODY');
    });

    it('to encode a sealed message without the recipient encryption key, with a TypeError', () => {
      expect(() => nodeCodec.encode({ kind: MessageKind.TrainResult, recipient: { signingPublicKey: coordinator.signing.publicKey }, body: sampleBody(MessageKind.TrainResult), seal: true })).toThrow(TypeError);
    });

    it('checks the signature before the sender, and the sender before the clock', () => {
      const strangerFrame = makeCodec(stranger, clock).encode({ kind: MessageKind.Hello, recipient: to(coordinator), body: sampleBody(MessageKind.Hello), seal: false });
      clock.now = T0 + 10 * 300_000;

      expect(codeOf(() => coordinatorCodec.decode(strangerFrame, { isKnownSender }))).toBe('UNKNOWN_SENDER');
      strangerFrame[strangerFrame.length - 1] ^= 1;
      expect(codeOf(() => coordinatorCodec.decode(strangerFrame, { isKnownSender }))).toBe('BAD_SIGNATURE');
    });
  });

  describe('peekHeader', () => {
    it('reads the header of a frame without verifying it, and agrees with decode', () => {
      const frame = helloFrame();
      frame[frame.length - 1] ^= 1;

      const header = peekHeader(frame);

      expect(header).toEqual(split(frame).header);
      expect(codeOf(() => coordinatorCodec.decode(frame, { isKnownSender }))).toBe('BAD_SIGNATURE');
    });

    it.each<[string, unknown, string]>([
      ['a string', 'frame', 'MALFORMED'],
      ['another version', assemble(headerJson({ v: 3 }), plaintextOf({})), 'UNSUPPORTED_VERSION'],
      ['a bad header field', assemble(headerJson({ kind: 'gossip' }), plaintextOf({})), 'INVALID_BODY'],
    ])('refuses %s', (_label, frame, code) => {
      expect(codeOf(() => peekHeader(frame))).toBe(code);
    });

    it('refuses a frame over the given limit', () => {
      expect(codeOf(() => peekHeader(Buffer.alloc(300), 299))).toBe('OVERSIZED');
    });
  });

  describe('construction', () => {
    it('refuses a replay guard shorter than the clock skew', () => {
      expect(() => makeCodec(node, { now: T0 }, { maxSkewMs: 60_000, replayGuard: new ReplayGuard(59_999) })).toThrow(RangeError);
    });

    it.each([[0], [MIN_FRAME_BYTES - 1], [1.5]])('refuses maxFrameBytes %p', (maxFrameBytes) => {
      expect(() => makeCodec(node, { now: T0 }, { maxFrameBytes })).toThrow(RangeError);
    });

    it('refuses a malformed identity', () => {
      expect(() => new EnvelopeCodec({ identity: { ...node, signing: { ...node.signing, publicKey: new Uint8Array(31) } }, maxFrameBytes: MAX_FRAME })).toThrow(TypeError);
    });
  });
});
