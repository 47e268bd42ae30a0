import { canonicalJson } from './canonical-json.util';

describe('canonicalJson', () => {
  it('sorts keys at every level by UTF-16 code units and drops whitespace (RFC 8785)', () => {
    // "Z" (U+005A) sorts before "a" (U+0061); "é" (U+00E9) after both.
    expect(canonicalJson({ b: [3, { d: 1, c: 'x' }], a: null, Z: true, é: 1.5 })).toBe('{"Z":true,"a":null,"b":[3,{"c":"x","d":1}],"é":1.5}');
  });

  it('writes numbers and strings as ECMAScript JSON does (RFC 8785 §3.2.2)', () => {
    expect(canonicalJson([1e21, 1e-7, -0, 0.1, 'a"\n\u0001'])).toBe('[1e+21,1e-7,0,0.1,"a\\"\\n\\u0001"]');
  });

  it.each([
    ['NaN', { a: Number.NaN }, /value\.a is a non-finite number \(NaN\)/],
    ['Infinity in an array', [1, Infinity], /value\[1\] is a non-finite number/],
    ['undefined', { u: undefined }, /value\.u is not a JSON value \(got undefined\)/],
    ['a Map', { m: new Map() }, /value\.m is not a JSON value \(got Map\)/],
  ])('refuses %s', (_, value, message) => {
    expect(() => canonicalJson(value)).toThrow(message);
  });
});
