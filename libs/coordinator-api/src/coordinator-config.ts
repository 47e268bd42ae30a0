import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Default largest frame a node may send: 16 MiB, far above a tabular model, well below memory limits. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** A coordinator's configuration, read from one JSON file (paths relative to that file). */
export interface CoordinatorConfig {
  host: string;
  port: number;
  /** SQLite database file; created if missing. */
  databasePath: string;
  /** The coordinator's identity key file (Ed25519 + X25519), made by `medfed coordinator init`. */
  identityFile: string;
  /** Bearer token that the REST API requires from operators. */
  adminToken: string;
  /** Socket.IO's message limit, replacing its 1 MB default; larger frames are refused with OVERSIZED. */
  maxFrameBytes: number;
  /** Accepted clock skew between nodes and the coordinator. */
  maxSkewMs: number;
  /** The coordinator's audit log (JSON Lines, hash-chained, signed); default next to the database. */
  auditLogPath: string;
  /** Bearer token of the read-only privacy-officer role (audit endpoints); null disables those endpoints. */
  privacyOfficerToken: string | null;
}

/** Raised when a config file is missing, unreadable or has a bad field; names the file and the field. */
export class CoordinatorConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoordinatorConfigError';
  }
}

/** Reads and checks a coordinator config file. */
export function loadCoordinatorConfig(path: string): CoordinatorConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CoordinatorConfigError(`cannot read coordinator config ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof raw !== 'object' || raw === null) throw new CoordinatorConfigError(`${path}: expected a JSON object`);
  const obj = raw as Record<string, unknown>;
  const base = dirname(resolve(path));
  const str = (key: string): string => {
    const v = obj[key];
    if (typeof v !== 'string' || v.length === 0) throw new CoordinatorConfigError(`${path}: "${key}" must be a non-empty string`);
    return v;
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const v = obj[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new CoordinatorConfigError(`${path}: "${key}" must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const adminToken = str('adminToken');
  if (adminToken.length < 16) throw new CoordinatorConfigError(`${path}: "adminToken" must be at least 16 characters`);
  return {
    host: typeof obj['host'] === 'string' ? (obj['host'] as string) : '127.0.0.1',
    port: int('port', 7400, 0, 65535),
    databasePath: resolve(base, str('databasePath')),
    identityFile: resolve(base, str('identityFile')),
    adminToken,
    maxFrameBytes: int('maxFrameBytes', DEFAULT_MAX_FRAME_BYTES, 1024, 1024 * 1024 * 1024),
    maxSkewMs: int('maxSkewMs', 300_000, 1_000, 86_400_000),
    auditLogPath: resolve(base, typeof obj['auditLogPath'] === 'string' ? (obj['auditLogPath'] as string) : 'coordinator-audit.jsonl'),
    privacyOfficerToken: privacyOfficerToken(obj, path, adminToken),
  };
}

function privacyOfficerToken(obj: Record<string, unknown>, path: string, adminToken: string): string | null {
  const token = obj['privacyOfficerToken'];
  if (token === undefined || token === null) return null;
  if (typeof token !== 'string' || token.length < 16) throw new CoordinatorConfigError(`${path}: "privacyOfficerToken" must be a string of at least 16 characters`);
  // Separate roles: an operator token must not also open the privacy officer's view, nor the reverse.
  if (token === adminToken) throw new CoordinatorConfigError(`${path}: "privacyOfficerToken" must differ from "adminToken"`);
  return token;
}
