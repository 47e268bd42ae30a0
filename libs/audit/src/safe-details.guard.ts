import { AuditWriteError, type AuditValue } from './audit-entry.model';
import { isPlainObject } from './canonical-json.util';

/** Longest array allowed anywhere in `details`. */
export const AUDIT_MAX_ARRAY_LENGTH = 64;
/** Longest string allowed anywhere in `details` (a SHA-256 hex is 64, a base64 key 44). */
export const AUDIT_MAX_STRING_LENGTH = 512;
/**
 * Most numbers one array may hold. A patient row or a slice of a weight vector is a list of numbers;
 * metadata almost never is (a binary confusion matrix is 4). Store a count, a sum or a SHA-256 instead.
 */
export const AUDIT_MAX_NUMBERS_PER_ARRAY = 8;
/** Deepest nesting allowed in `details`. */
export const AUDIT_MAX_DEPTH = 6;
/** Largest `details` allowed, as characters of JSON: an entry stays one small write. */
export const AUDIT_MAX_DETAILS_CHARS = 8192;
/**
 * Keys that name raw data, compared case-insensitively with `_` and `-` removed: `weights`, `Weights`
 * and `raw_rows` are refused, `weightsSha256` or `numFeatures` are not.
 */
export const AUDIT_RAW_DATA_KEYS: readonly string[] = [
  'values',
  'weights',
  'features',
  'x',
  'y',
  'rows',
  'row',
  'rawrows',
  'records',
  'tensors',
  'gradients',
  'deltas',
  'samples',
  'patients',
];
const RAW_KEYS: ReadonlySet<string> = new Set(AUDIT_RAW_DATA_KEYS);

function refuse(path: string, why: string): never {
  throw new AuditWriteError(`audit details refused at ${path}: ${why}`);
}

function check(value: unknown, path: string, depth: number): void {
  if (depth > AUDIT_MAX_DEPTH) refuse(path, `nested deeper than ${AUDIT_MAX_DEPTH} levels`);
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (value.length > AUDIT_MAX_STRING_LENGTH) refuse(path, `string of ${value.length} characters (limit ${AUDIT_MAX_STRING_LENGTH})`);
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) refuse(path, 'non-finite number');
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > AUDIT_MAX_ARRAY_LENGTH) refuse(path, `array of ${value.length} elements (limit ${AUDIT_MAX_ARRAY_LENGTH})`);
    const numbers = value.filter((item) => typeof item === 'number').length;
    if (numbers > AUDIT_MAX_NUMBERS_PER_ARRAY) {
      refuse(path, `array of ${numbers} numbers (limit ${AUDIT_MAX_NUMBERS_PER_ARRAY}): log a count, sum or SHA-256, not a vector`);
    }
    value.forEach((item, index) => check(item, `${path}[${index}]`, depth + 1));
    return;
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const normalised = key.toLowerCase().replace(/[_-]/g, '');
      if (RAW_KEYS.has(normalised)) refuse(`${path}.${key}`, `key "${key}" names raw data`);
      check(item, `${path}.${key}`, depth + 1);
    }
    return;
  }
  refuse(path, `not a JSON value (${typeof value})`);
}

/**
 * Guards the audit log against patient data and raw update values: throws `AuditWriteError` naming the
 * offending key path (never its value) for any array longer than `AUDIT_MAX_ARRAY_LENGTH` (64), any array
 * holding more than `AUDIT_MAX_NUMBERS_PER_ARRAY` (8) numbers, any string longer than
 * `AUDIT_MAX_STRING_LENGTH` (512), a key in `AUDIT_RAW_DATA_KEYS` (values, weights, features, x, y, rows…),
 * a non-finite number, a non-JSON value, nesting deeper than `AUDIT_MAX_DEPTH` or details larger than
 * `AUDIT_MAX_DETAILS_CHARS`.
 * @param details - the `details` object of an entry about to be appended
 */
export function assertSafeDetails(details: Record<string, AuditValue>): void {
  if (typeof details !== 'object' || details === null || Array.isArray(details) || !isPlainObject(details)) {
    refuse('details', 'not a plain object');
  }
  check(details, 'details', 0);
  const size = JSON.stringify(details).length;
  if (size > AUDIT_MAX_DETAILS_CHARS) refuse('details', `${size} characters of JSON (limit ${AUDIT_MAX_DETAILS_CHARS})`);
}
