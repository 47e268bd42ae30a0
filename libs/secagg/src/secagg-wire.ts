import { SecAggError } from './secagg.error';

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The words as little-endian bytes: a view of the same memory on little-endian hosts (no copy). */
function wordsToBytes(words: Uint32Array): Buffer {
  if (HOST_IS_LITTLE_ENDIAN) return Buffer.from(words.buffer, words.byteOffset, words.byteLength);
  const bytes = Buffer.alloc(words.length * 4);
  for (let i = 0; i < words.length; i++) bytes.writeUInt32LE(words[i], i * 4);
  return bytes;
}

/** Little-endian bytes as words, copied into a fresh (aligned) Uint32Array. */
function bytesToWords(bytes: Buffer): Uint32Array {
  const words = new Uint32Array(bytes.length / 4);
  if (HOST_IS_LITTLE_ENDIAN) new Uint8Array(words.buffer).set(bytes);
  else for (let i = 0; i < words.length; i++) words[i] = bytes.readUInt32LE(i * 4);
  return words;
}

/**
 * The secure-aggregation messages as text, for the protocol's sealed secagg-up/-down steps: JSON in
 * which byte arrays travel as `{"$b64": …}` and the masked ring words as `{"$u32": …}` (little-endian).
 * The decoded objects are then checked by SecAggClient / SecAggServer like any other input.
 */
export function encodeSecAggPayload(message: unknown): string {
  return JSON.stringify(message, (_key, value: unknown) => {
    if (value instanceof Uint32Array) return { $u32: wordsToBytes(value).toString('base64') };
    if (value instanceof Uint8Array) return { $b64: Buffer.from(value).toString('base64') };
    return value;
  });
}

/** Inverse of encodeSecAggPayload; SecAggError MALFORMED for text that is not such a payload. */
export function decodeSecAggPayload<T>(text: string): T {
  try {
    return JSON.parse(text, (_key, value: unknown) => {
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const o = value as Record<string, unknown>;
        const keys = Object.keys(o);
        if (keys.length === 1 && typeof o['$b64'] === 'string') return new Uint8Array(Buffer.from(o['$b64'], 'base64'));
        if (keys.length === 1 && typeof o['$u32'] === 'string') {
          const bytes = Buffer.from(o['$u32'], 'base64');
          if (bytes.length % 4 !== 0) throw new SecAggError('MALFORMED', 'masked words are not a whole number of 32-bit words');
          return bytesToWords(bytes);
        }
      }
      return value;
    }) as T;
  } catch (err) {
    if (err instanceof SecAggError) throw err;
    throw new SecAggError('MALFORMED', `secure-aggregation payload is not valid JSON (${err instanceof Error ? err.name : 'error'})`);
  }
}
