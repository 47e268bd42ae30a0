import { types } from 'node:util';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  Identity,
  Sealer,
  Signer,
  X25519_KEY_BYTES,
  defaultSealer,
  defaultSigner,
  fromBase64,
  randomBytes,
  sha256,
  sha256Hex,
  toBase64,
} from '@medfed/crypto';
import { EnvelopeHeader, NONCE_BYTES } from './dto/envelope-header.dto';
import { MessageKind, PROTOCOL_VERSION, isMessageKind, mustBeSealed } from './message-kind';
import { ProtocolError } from './protocol-error';
import { ReplayGuard } from './replay-guard';
import { WeightTensor, decodeTensors, tensorsByteLength, writeTensors } from './tensor-codec';
import { validateBody, validateHeader } from './validation';


/** The 4 magic bytes every frame starts with: ASCII "MFD" and the frame-format byte 0x01. */
export const FRAME_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x4d, 0x46, 0x44, 0x01);
/** Largest header accepted; real headers are about 250 bytes. */
export const MAX_HEADER_BYTES = 4096;
/** Default tolerated clock difference between sender and receiver: 5 minutes. */
export const DEFAULT_MAX_SKEW_MS = 300_000;
/** Smallest possible frame: magic, two length fields, an empty header and payload, the signature. */
export const MIN_FRAME_BYTES = 4 + 4 + 4 + ED25519_SIGNATURE_BYTES;

/** A message to send. The codec adds the header, seals if asked, and signs. */
export interface OutgoingMessage<B> {
  kind: MessageKind;
  /** The recipient's public keys; `encryptionPublicKey` is required when `seal` is true. */
  recipient: { signingPublicKey: Uint8Array; encryptionPublicKey?: Uint8Array };
  /** Header study id; defaults to the body's `studyId` and must match it when both exist. */
  studyId?: string;
  /** Header round; defaults to the body's `round` and must match it when both exist. */
  round?: number;
  body: B;
  /** Weights to carry after the body (global weights for tasks, the delta for a train result). */
  tensors?: readonly WeightTensor[];
  /** Must be true exactly for the kinds in SEALED_KINDS. */
  seal: boolean;
  /** Refuse to produce a frame larger than this (e.g. the peer's Welcome.maxFrameBytes). Default: the codec's maxFrameBytes. */
  maxFrameBytes?: number;
}

/** A frame that passed every check. */
export interface OpenedMessage<B = unknown> {
  header: EnvelopeHeader;
  /** The sender's Ed25519 public key (decoded header.sender). */
  senderKey: Uint8Array;
  body: B;
  tensors: WeightTensor[];
  /** Size of the whole frame. */
  frameBytes: number;
  /** Lowercase hex SHA-256 of the whole frame, for receipts and audit logs. */
  frameSha256: string;
}

/** Options for {@link EnvelopeCodec}. */
export interface EnvelopeCodecOptions {
  /** This participant's keys: signs outgoing frames, opens sealed incoming ones. */
  identity: Identity;
  /** Largest frame accepted (and, by default, produced). */
  maxFrameBytes: number;
  /** Largest |receiver clock - sentAt| accepted. Default {@link DEFAULT_MAX_SKEW_MS}. */
  maxSkewMs?: number;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
  /** Default defaultSigner from @medfed/crypto. */
  signer?: Signer;
  /** Default defaultSealer from @medfed/crypto. */
  sealer?: Sealer;
  /** Default a new ReplayGuard(maxSkewMs); share one across codecs to share the nonce memory. Its window must be ≥ maxSkewMs. */
  replayGuard?: ReplayGuard;
}

/** Options for {@link EnvelopeCodec.decode}. */
export interface DecodeOptions {
  /** Whether a sender (base64 Ed25519 public key) is allowed to talk to us. */
  isKnownSender: (senderBase64: string) => boolean;
  /** When given, frames of other kinds are refused with UNEXPECTED_KIND. */
  expectKinds?: readonly MessageKind[];
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function parseJson(bytes: Uint8Array, code: 'MALFORMED' | 'INVALID_BODY', what: string): unknown {
  let text: string;
  try {
    text = utf8Decoder.decode(bytes);
  } catch (error) {
    throw new ProtocolError(code, `${what} is not valid UTF-8 (${(error as Error).name})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ProtocolError(code, `${what} is not valid JSON (${(error as Error).name})`);
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

function assertKey(value: unknown, name: string, bytes: number): asserts value is Uint8Array {
  if (!types.isUint8Array(value) || value.length !== bytes) {
    throw new TypeError(`${name} must be a Uint8Array of ${bytes} bytes, got ${types.isUint8Array(value) ? `${value.length} bytes` : describeType(value)}`);
  }
}

/** Fields of a body that the header mirrors, when the body has them. */
function bodyScope(body: unknown): { studyId?: string; round?: number } {
  const b = body as { studyId?: unknown; round?: unknown };
  return {
    studyId: typeof b.studyId === 'string' ? b.studyId : undefined,
    round: typeof b.round === 'number' ? b.round : undefined,
  };
}

/** A frame split by the layout, with its header parsed and validated but not yet authenticated. */
interface ParsedFrame {
  bytes: Uint8Array;
  header: EnvelopeHeader;
  headerBytes: Uint8Array;
  payload: Uint8Array;
}

// The structural checks every frame goes through before any cryptography.
function parseFrame(frame: unknown, maxFrameBytes: number): ParsedFrame {
  let bytes: Uint8Array;
  if (types.isUint8Array(frame)) bytes = frame;
  else if (types.isArrayBuffer(frame)) bytes = new Uint8Array(frame);
  else throw new ProtocolError('MALFORMED', `frame must be binary, got ${describeType(frame)}`);

  const total = bytes.length;
  if (total > maxFrameBytes) {
    throw new ProtocolError('OVERSIZED', `frame is ${total} bytes, limit is ${maxFrameBytes}`);
  }
  if (total < MIN_FRAME_BYTES) {
    throw new ProtocolError('MALFORMED', `frame is ${total} bytes, shorter than the minimum ${MIN_FRAME_BYTES}`);
  }
  for (let i = 0; i < FRAME_MAGIC.length; i++) {
    if (bytes[i] !== FRAME_MAGIC[i]) throw new ProtocolError('MALFORMED', 'frame does not start with the MFD\\x01 magic');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, false);
  if (headerLength > MAX_HEADER_BYTES || 12 + headerLength + ED25519_SIGNATURE_BYTES > total) {
    throw new ProtocolError('MALFORMED', `header length ${headerLength} does not fit the frame`);
  }
  const payloadLength = view.getUint32(8 + headerLength, false);
  if (12 + headerLength + payloadLength + ED25519_SIGNATURE_BYTES !== total) {
    throw new ProtocolError('MALFORMED', `payload length ${payloadLength} does not match the frame size`);
  }
  const headerBytes = bytes.subarray(8, 8 + headerLength);
  const payload = bytes.subarray(12 + headerLength, 12 + headerLength + payloadLength);

  const rawHeader = parseJson(headerBytes, 'MALFORMED', 'header');
  if (rawHeader === null || typeof rawHeader !== 'object' || Array.isArray(rawHeader)) {
    throw new ProtocolError('MALFORMED', 'header must be a JSON object');
  }
  const version = (rawHeader as { v?: unknown }).v;
  if (typeof version === 'number' && version !== PROTOCOL_VERSION) {
    throw new ProtocolError('UNSUPPORTED_VERSION', `header.v is ${Number.isSafeInteger(version) ? version : 'not an integer'}, this build speaks ${PROTOCOL_VERSION}`);
  }
  const header = validateHeader(rawHeader);
  if (header.sealed !== mustBeSealed(header.kind)) {
    throw new ProtocolError('INVALID_BODY', `header.sealed: ${header.kind} messages must ${mustBeSealed(header.kind) ? '' : 'not '}be sealed`);
  }
  return { bytes, header, headerBytes, payload };
}

/**
 * Reads a frame's header WITHOUT checking its signature, sender, recipient, clock or nonce: only
 * the layout, the version, the header fields and the seal policy. For frames this participant
 * built itself (e.g. to remember the nonce of its own Hello) and for logging which nonce a
 * refused frame claimed; never a basis for trusting anything in it.
 * @param frame the frame (Buffer, Uint8Array or ArrayBuffer).
 * @param maxFrameBytes refuse larger frames (OVERSIZED); default unlimited.
 * @throws ProtocolError MALFORMED, OVERSIZED, UNSUPPORTED_VERSION or INVALID_BODY.
 */
export function peekHeader(frame: unknown, maxFrameBytes: number = Number.POSITIVE_INFINITY): EnvelopeHeader {
  return parseFrame(frame, maxFrameBytes).header;
}

/**
 * Encodes and decodes the signed (and, for weights and statistics, sealed) binary frames that
 * every Socket.IO event carries.
 *
 * Frame: `"MFD" 0x01` | u32 BE H | header JSON (H bytes) | u32 BE P | payload (P bytes) |
 * Ed25519 signature (64 bytes, RFC 8032) over the SHA-256 (FIPS 180-4) of all preceding bytes.
 * Payload plaintext: u32 BE B | body JSON (B bytes) | {@link encodeTensors} blob. A sealed payload
 * is `sealer.seal(plaintext, recipientX25519, aad = header bytes)`.
 */
export class EnvelopeCodec {
  private readonly identity: Identity;
  private readonly ownSigningKeyBase64: string;
  private readonly maxFrameBytes: number;
  private readonly maxSkewMs: number;
  private readonly now: () => number;
  private readonly signer: Signer;
  private readonly sealer: Sealer;
  private readonly replayGuard: ReplayGuard;

  /**
   * @param opts see {@link EnvelopeCodecOptions}.
   * @throws TypeError for malformed identity keys; RangeError for a bad limit or a replay guard
   *   whose window is shorter than `maxSkewMs`.
   */
  constructor(opts: EnvelopeCodecOptions) {
    assertKey(opts?.identity?.signing?.publicKey, 'identity.signing.publicKey', ED25519_PUBLIC_KEY_BYTES);
    assertKey(opts.identity.encryption?.publicKey, 'identity.encryption.publicKey', X25519_KEY_BYTES);
    if (!Number.isSafeInteger(opts.maxFrameBytes) || opts.maxFrameBytes < MIN_FRAME_BYTES) {
      throw new RangeError(`EnvelopeCodec: maxFrameBytes must be an integer ≥ ${MIN_FRAME_BYTES}, got ${opts.maxFrameBytes}`);
    }
    const maxSkewMs = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
    if (!Number.isFinite(maxSkewMs) || maxSkewMs <= 0) {
      throw new RangeError(`EnvelopeCodec: maxSkewMs must be a positive number, got ${maxSkewMs}`);
    }
    const replayGuard = opts.replayGuard ?? new ReplayGuard(maxSkewMs);
    // A shorter window would forget a nonce while its frame still passes the staleness check.
    if (replayGuard.windowMs < maxSkewMs) {
      throw new RangeError(`EnvelopeCodec: replayGuard.windowMs (${replayGuard.windowMs}) must be ≥ maxSkewMs (${maxSkewMs})`);
    }
    this.identity = opts.identity;
    this.ownSigningKeyBase64 = toBase64(opts.identity.signing.publicKey);
    this.maxFrameBytes = opts.maxFrameBytes;
    this.maxSkewMs = maxSkewMs;
    this.now = opts.now ?? Date.now;
    this.signer = opts.signer ?? defaultSigner;
    this.sealer = opts.sealer ?? defaultSealer;
    this.replayGuard = replayGuard;
  }

  /**
   * Validates, serialises, optionally seals, and signs a message.
   * @param msg the message; its body is validated against its kind's DTO first, so a bug never goes on the wire.
   * @returns the frame, ready to emit.
   * @throws ProtocolError UNEXPECTED_KIND (unknown kind), INVALID_BODY (bad body, wrong seal flag,
   *   header/body studyId or round mismatch), MALFORMED_TENSORS / NON_FINITE, OVERSIZED;
   *   TypeError for malformed recipient keys.
   */
  encode<B>(msg: OutgoingMessage<B>): Buffer {
    if (!isMessageKind(msg?.kind)) {
      throw new ProtocolError('UNEXPECTED_KIND', 'encode: unknown message kind');
    }
    const { kind } = msg;
    if (msg.seal !== mustBeSealed(kind)) {
      throw new ProtocolError('INVALID_BODY', `${kind} messages must ${mustBeSealed(kind) ? '' : 'not '}be sealed (seal: ${String(msg.seal)})`);
    }
    validateBody(kind, msg.body);
    assertKey(msg.recipient?.signingPublicKey, 'recipient.signingPublicKey', ED25519_PUBLIC_KEY_BYTES);
    if (msg.seal) assertKey(msg.recipient.encryptionPublicKey, 'recipient.encryptionPublicKey', X25519_KEY_BYTES);

    const scope = bodyScope(msg.body);
    if (msg.studyId !== undefined && scope.studyId !== undefined && msg.studyId !== scope.studyId) {
      throw new ProtocolError('INVALID_BODY', 'studyId: message studyId differs from body.studyId');
    }
    if (msg.round !== undefined && scope.round !== undefined && msg.round !== scope.round) {
      throw new ProtocolError('INVALID_BODY', 'round: message round differs from body.round');
    }
    const header: EnvelopeHeader = {
      v: PROTOCOL_VERSION,
      kind,
      sender: this.ownSigningKeyBase64,
      recipient: toBase64(msg.recipient.signingPublicKey),
      studyId: msg.studyId ?? scope.studyId ?? null,
      round: msg.round ?? scope.round ?? null,
      nonce: toBase64(randomBytes(NONCE_BYTES)),
      sentAt: this.now(),
      sealed: msg.seal,
    };
    validateHeader(header);
    const headerBytes = utf8Encoder.encode(JSON.stringify(header));

    const bodyBytes = utf8Encoder.encode(JSON.stringify(msg.body));
    const tensors = msg.tensors ?? [];
    const plaintext = new Uint8Array(4 + bodyBytes.length + tensorsByteLength(tensors));
    new DataView(plaintext.buffer).setUint32(0, bodyBytes.length, false);
    plaintext.set(bodyBytes, 4);
    writeTensors(tensors, plaintext, 4 + bodyBytes.length);

    let payload: Uint8Array = plaintext;
    if (msg.seal) {
      payload = this.sealer.seal(plaintext, msg.recipient.encryptionPublicKey as Uint8Array, headerBytes);
      // Weights should not linger in memory once sealed.
      plaintext.fill(0);
    }

    const limit = msg.maxFrameBytes ?? this.maxFrameBytes;
    const frameBytes = 12 + headerBytes.length + payload.length + ED25519_SIGNATURE_BYTES;
    if (frameBytes > limit) {
      throw new ProtocolError('OVERSIZED', `encode: ${kind} frame would be ${frameBytes} bytes, limit is ${limit}`);
    }
    // Every byte is written below, so the zero-fill of Buffer.alloc would be wasted on large frames.
    const frame = Buffer.allocUnsafeSlow(frameBytes);
    frame.set(FRAME_MAGIC, 0);
    frame.writeUInt32BE(headerBytes.length, 4);
    frame.set(headerBytes, 8);
    frame.writeUInt32BE(payload.length, 8 + headerBytes.length);
    frame.set(payload, 12 + headerBytes.length);
    const signedLength = frameBytes - ED25519_SIGNATURE_BYTES;
    const signature = this.signer.sign(sha256(frame.subarray(0, signedLength)), this.identity.signing.secretKey);
    frame.set(signature, signedLength);
    return frame;
  }

  /**
   * Checks a received frame and opens it. Checks run in this order, each throwing ProtocolError:
   * binary type (MALFORMED), size ≤ maxFrameBytes (OVERSIZED), magic and lengths (MALFORMED),
   * header JSON (MALFORMED), version (UNSUPPORTED_VERSION — before the header DTO, because another
   * version may have other header fields), header DTO and the kind's seal policy (INVALID_BODY),
   * `expectKinds` (UNEXPECTED_KIND — before the signature, so a frame on the wrong event costs
   * nothing), signature (BAD_SIGNATURE), `isKnownSender` (UNKNOWN_SENDER), recipient is us
   * (WRONG_RECIPIENT), |now - sentAt| ≤ maxSkewMs (STALE), nonce not seen (REPLAYED), decryption
   * with the header as aad (DECRYPT_FAILED), body JSON, DTO and header/body studyId and round
   * agreement (INVALID_BODY), tensors (MALFORMED_TENSORS / NON_FINITE). The nonce is recorded
   * only once every check has passed.
   * @param frame what arrived: a Buffer, Uint8Array or ArrayBuffer; anything else is MALFORMED.
   * @param opts see {@link DecodeOptions}.
   */
  decode<B = unknown>(frame: unknown, opts: DecodeOptions): OpenedMessage<B> {
    const { bytes, header, headerBytes, payload } = parseFrame(frame, this.maxFrameBytes);
    const total = bytes.length;
    const signedLength = total - ED25519_SIGNATURE_BYTES;
    if (opts.expectKinds && !opts.expectKinds.includes(header.kind)) {
      throw new ProtocolError('UNEXPECTED_KIND', `header.kind ${header.kind} is not one of ${opts.expectKinds.join(', ')}`);
    }

    const senderKey = fromBase64(header.sender, ED25519_PUBLIC_KEY_BYTES);
    const digest = sha256(bytes.subarray(0, signedLength));
    if (!this.signer.verify(digest, bytes.subarray(signedLength), senderKey)) {
      throw new ProtocolError('BAD_SIGNATURE', 'signature does not verify under header.sender');
    }
    if (!opts.isKnownSender(header.sender)) {
      throw new ProtocolError('UNKNOWN_SENDER', `header.sender is not a known participant`);
    }
    if (header.recipient !== this.ownSigningKeyBase64) {
      throw new ProtocolError('WRONG_RECIPIENT', 'header.recipient is not this participant');
    }
    const now = this.now();
    if (Math.abs(now - header.sentAt) > this.maxSkewMs) {
      throw new ProtocolError('STALE', `header.sentAt is ${now - header.sentAt} ms from this clock, limit is ±${this.maxSkewMs} ms`);
    }
    if (!this.replayGuard.isFresh(header.sender, header.nonce, header.sentAt, now)) {
      throw new ProtocolError('REPLAYED', 'header.nonce was already seen from this sender');
    }

    let plaintext: Uint8Array = payload;
    if (header.sealed) {
      const opened = this.sealer.open(payload, this.identity.encryption, headerBytes);
      if (opened === null) {
        throw new ProtocolError('DECRYPT_FAILED', 'sealed payload does not open with this participant\'s key and header');
      }
      plaintext = opened;
    }
    try {
      const { body, tensors } = openPlaintext(header, plaintext);
      if (!this.replayGuard.checkAndRemember(header.sender, header.nonce, header.sentAt, now)) {
        throw new ProtocolError('REPLAYED', 'header.nonce was already seen from this sender');
      }
      return {
        header,
        senderKey,
        body: body as B,
        tensors,
        frameBytes: total,
        frameSha256: sha256Hex(bytes),
      };
    } finally {
      // Decrypted weights were copied into the tensors; do not leave a second copy behind.
      if (header.sealed) plaintext.fill(0);
    }
  }

}

// The body and tensors of a plaintext payload, checked against the header's kind and scope.
function openPlaintext(header: EnvelopeHeader, plaintext: Uint8Array): { body: unknown; tensors: WeightTensor[] } {
  if (plaintext.length < 4) {
    throw new ProtocolError('MALFORMED', 'payload is shorter than its body length field');
  }
  const bodyLength = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength).getUint32(0, false);
  if (4 + bodyLength > plaintext.length) {
    throw new ProtocolError('MALFORMED', `body length ${bodyLength} does not fit the payload`);
  }
  const body = validateBody(header.kind, parseJson(plaintext.subarray(4, 4 + bodyLength), 'INVALID_BODY', `${header.kind} body`));
  const scope = bodyScope(body);
  if (scope.studyId !== undefined && scope.studyId !== header.studyId) {
    throw new ProtocolError('INVALID_BODY', 'header.studyId does not match body.studyId');
  }
  if (scope.round !== undefined && scope.round !== header.round) {
    throw new ProtocolError('INVALID_BODY', 'header.round does not match body.round');
  }
  const tensors = decodeTensors(plaintext.subarray(4 + bodyLength), { requireFinite: true });
  return { body, tensors };
}

/**
 * Checks a signed, unsealed statement on its own, as a third party would (a privacy officer, an
 * auditor): layout, header, the signature under `signerBase64`, and the body against its kind.
 * No recipient, clock or nonce checks — those belong to the live exchange, not to later proof.
 * Used to verify the coordinator's receipts that a node keeps.
 * @throws ProtocolError (MALFORMED, INVALID_BODY, BAD_SIGNATURE, UNKNOWN_SENDER).
 */
export function verifySignedStatement<B = unknown>(frame: unknown, signerBase64: string, signer: Signer = defaultSigner): { header: EnvelopeHeader; body: B; frameSha256: string } {
  const { bytes, header, payload } = parseFrame(frame, Number.POSITIVE_INFINITY);
  if (header.sealed) throw new ProtocolError('INVALID_BODY', 'a sealed frame cannot be verified by a third party');
  if (header.sender !== signerBase64) throw new ProtocolError('UNKNOWN_SENDER', 'header.sender is not the expected signer');
  const signedLength = bytes.length - ED25519_SIGNATURE_BYTES;
  const senderKey = fromBase64(header.sender, ED25519_PUBLIC_KEY_BYTES);
  if (!signer.verify(sha256(bytes.subarray(0, signedLength)), bytes.subarray(signedLength), senderKey)) {
    throw new ProtocolError('BAD_SIGNATURE', 'signature does not verify under the expected signer');
  }
  const { body } = openPlaintext(header, payload);
  return { header, body: body as B, frameSha256: sha256Hex(bytes) };
}
