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

  it('refuses text that is not a payload, naming the problem', () => {
    expect(() => decodeSecAggPayload('{not json')).toThrow(SecAggError);
    expect(() => decodeSecAggPayload('{"$u32":"AQID"}')).toThrow('whole number of 32-bit words');
  });
});
