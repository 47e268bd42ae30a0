/**
 * The named failure codes of the wire protocol. A receiver answers a bad frame with one of these
 * (for example in a `Rejected` message) and logs it; the message text names the problem and the
 * field, never the payload's contents.
 */
export type ProtocolErrorCode =
  | 'MALFORMED'
  | 'OVERSIZED'
  | 'UNSUPPORTED_VERSION'
  | 'BAD_SIGNATURE'
  | 'UNKNOWN_SENDER'
  | 'WRONG_RECIPIENT'
  | 'REPLAYED'
  | 'STALE'
  | 'DECRYPT_FAILED'
  | 'INVALID_BODY'
  | 'MALFORMED_TENSORS'
  | 'NON_FINITE'
  | 'UNEXPECTED_KIND';

/** Every code, in the order the envelope codec checks them (handy for tables and metrics). */
export const PROTOCOL_ERROR_CODES: readonly ProtocolErrorCode[] = [
  'MALFORMED',
  'OVERSIZED',
  'UNSUPPORTED_VERSION',
  'BAD_SIGNATURE',
  'UNKNOWN_SENDER',
  'WRONG_RECIPIENT',
  'REPLAYED',
  'STALE',
  'DECRYPT_FAILED',
  'INVALID_BODY',
  'MALFORMED_TENSORS',
  'NON_FINITE',
  'UNEXPECTED_KIND',
];

/**
 * Raised by every protocol check (envelope decoding, body validation, tensor decoding).
 * @param code the machine-readable failure code.
 * @param message what is wrong and in which field; must never contain payload contents.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
