import { SecAggError } from './secagg.error';

/**
 * The secure-aggregation messages as text, for the protocol's sealed secagg-up/-down steps: JSON in
 * which byte arrays travel as `{"$b64": …}` and the masked ring words as `{"$u32": …}` (little-endian).
 * The decoded objects are then checked by SecAggClient / SecAggServer like any other input.
 */
export function encodeSecAggPayload(message: unknown): string {
  return JSON.stringify(message, (_key, value: unknown) => {
    if (value instanceof Uint32Array) {
      const bytes = Buffer.alloc(value.length * 4);
      for (let i = 0; i < value.length; i++) bytes.writeUInt32LE(value[i], i * 4);
      return { $u32: bytes.toString('base64') };
    }
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
          const words = new Uint32Array(bytes.length / 4);
          for (let i = 0; i < words.length; i++) words[i] = bytes.readUInt32LE(i * 4);
          return words;
        }
      }
      return value;
    }) as T;
  } catch (err) {
    if (err instanceof SecAggError) throw err;
    throw new SecAggError('MALFORMED', `secure-aggregation payload is not valid JSON (${err instanceof Error ? err.name : 'error'})`);
  }
}
