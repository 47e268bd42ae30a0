import { decodeSecAggPayload, encodeSecAggPayload } from './secagg-wire';
import { SecAggError } from './secagg.error';

describe('secure-aggregation wire payloads', () => {
  it('round-trips byte arrays and ring words exactly, including the largest word', () => {
    const message = { siteId: 'a', key: new Uint8Array([0, 1, 255]), masked: new Uint32Array([0, 1, 0xffffffff, 123456789]), nested: [{ y: new Uint8Array([7]) }] };
    const back = decodeSecAggPayload<typeof message>(encodeSecAggPayload(message));
    expect(back.siteId).toBe('a');
    expect(Array.from(back.key)).toEqual([0, 1, 255]);
    expect(back.masked).toBeInstanceOf(Uint32Array);
    expect(Array.from(back.masked)).toEqual([0, 1, 0xffffffff, 123456789]);
    expect(Array.from(back.nested[0].y)).toEqual([7]);
  });

  it('encodes a view into a larger buffer as just its own words, little-endian', () => {
    // Arrange: words 1..2 of a 4-word buffer (byteOffset 4).
    const view = new Uint32Array([9, 0x04030201, 0xa0b0c0d0, 9]).subarray(1, 3);
    // Act
    const text = encodeSecAggPayload({ masked: view });
    // Assert: base64 of 01 02 03 04 d0 c0 b0 a0, computed by hand.
    expect(text).toBe(`{"masked":{"$u32":"${Buffer.from([1, 2, 3, 4, 0xd0, 0xc0, 0xb0, 0xa0]).toString('base64')}"}}`);
    expect(Array.from(decodeSecAggPayload<{ masked: Uint32Array }>(text).masked)).toEqual([0x04030201, 0xa0b0c0d0]);
  });

  it('refuses text that is not a payload, naming the problem', () => {
    expect(() => decodeSecAggPayload('{not json')).toThrow(SecAggError);
    expect(() => decodeSecAggPayload('{"$u32":"AQID"}')).toThrow('whole number of 32-bit words');
  });
});
