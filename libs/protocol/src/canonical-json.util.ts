/**
 * Canonical JSON for the values an audit entry can hold: object keys sorted by UTF-16 code units, no
 * whitespace, strings and numbers as ECMAScript `JSON.stringify` writes them. For this value domain
 * (no non-finite numbers) it is the JSON Canonicalization Scheme, RFC 8785, so one value has exactly one
 * text and a hash over that text is a hash over the value.
 * Throws `TypeError` for anything JSON cannot carry unchanged (undefined, functions, NaN, Infinity,
 * class instances), naming the path of the bad value but never the value.
 * @param value - a JSON value (null, boolean, finite number, string, array, plain object)
 * @param path - the name used in error messages; `value` by default
 */
export function canonicalJson(value: unknown, path = 'value'): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    // JSON.stringify would silently turn NaN and ±Infinity into null: the hashed value would not be the value given.
    if (!Number.isFinite(value)) throw new TypeError(`${path} is a non-finite number (${String(value)})`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item, index) => canonicalJson(item, `${path}[${index}]`)).join(',')}]`;
  if (typeof value === 'object' && isPlainObject(value)) {
    const record = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 prescribes.
    const keys = Object.keys(record).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key], `${path}.${key}`)}`).join(',')}}`;
  }
  throw new TypeError(`${path} is not a JSON value (got ${describeType(value)})`);
}

/** Whether `value` is an object literal (or `Object.create(null)`), not a Date, Map, Buffer or class instance. */
export function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  // Objects from another realm (jest's VM context) have a different Object.prototype, so compare by shape.
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

function describeType(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeof value;
  return (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
}
