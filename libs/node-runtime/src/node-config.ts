import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DATASETS, DatasetName, MODEL_FAMILIES, ModelFamily } from '@medfed/protocol';
import { BackendPreference } from '@medfed/models';

/** What this hospital lets its node do. Local, typed, and never sent to the coordinator. */
export interface LocalPolicy {
  /** Metrics over fewer patients than this are suppressed; training on fewer is declined. */
  minCohortSize: number;
  /** Data sets this node will train or evaluate on. */
  allowedDatasets: DatasetName[];
  /** Model families this node will run. */
  allowedModelFamilies: ModelFamily[];
  /** Upper bound on local steps per round, so a study cannot monopolise the node. */
  maxLocalSteps: number;
}

/** Where the node's patients are: a data set name and where its files live on this machine. */
export interface DataSourceConfig {
  dataset: DatasetName;
  /** Folder holding the data set's files. */
  path: string;
  /** For Fed-Heart-Disease: which hospital's file this node holds. */
  center: string;
}

export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'native', 'wasm', 'cpu'];

/** A node's whole configuration, from one JSON file; paths are relative to that file. */
export interface NodeConfig {
  name: string;
  coordinatorUrl: string;
  /** The coordinator's Ed25519 public key, base64: pinned, so a different coordinator is refused. */
  coordinatorSigningPublicKey: string;
  identityFile: string;
  /** Optional one-time token, used at the first connection when the key is not yet on the allow-list. */
  enrolmentToken: string | null;
  data: DataSourceConfig;
  policy: LocalPolicy;
  backend: BackendPreference;
  /** Folder for the node's own state (receipts, SCAFFOLD controls, the audit log). */
  stateDir: string;
  /** The node's audit log (default: stateDir/audit.jsonl). */
  auditLogPath?: string;
  /** Largest frame this node accepts from the coordinator. */
  maxFrameBytes: number;
  reconnect: { minDelayMs: number; maxDelayMs: number };
}

/** A missing or bad node config; names the file and the field. */
export class NodeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeConfigError';
  }
}

export const DEFAULT_POLICY: LocalPolicy = {
  minCohortSize: 10,
  allowedDatasets: ['fed-heart-disease'],
  allowedModelFamilies: ['logistic-regression', 'mlp'],
  maxLocalSteps: 10_000,
};

/** Reads and checks a node config file. */
export function loadNodeConfig(path: string): NodeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new NodeConfigError(`cannot read node config ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseNodeConfig(raw, path);
}

/** Checks a parsed config object; `path` is used for messages and to resolve relative paths. */
export function parseNodeConfig(raw: unknown, path: string): NodeConfig {
  const fail = (msg: string): never => {
    throw new NodeConfigError(`${path}: ${msg}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('expected a JSON object');
  const obj = raw as Record<string, unknown>;
  const base = dirname(resolve(path));
  const str = (o: Record<string, unknown>, key: string, where = ''): string => {
    const v = o[key];
    if (typeof v !== 'string' || v.length === 0) fail(`"${where}${key}" must be a non-empty string`);
    return v as string;
  };
  const int = (o: Record<string, unknown>, key: string, fallback: number, min: number, max: number, where = ''): number => {
    const v = o[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      fail(`"${where}${key}" must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  const url = str(obj, 'coordinatorUrl');
  if (!/^https?:\/\//.test(url)) fail(`"coordinatorUrl" must start with http:// or https://, got ${JSON.stringify(url)}`);
  const data = obj['data'];
  if (typeof data !== 'object' || data === null) fail('"data" must be an object with dataset, path and center');
  const d = data as Record<string, unknown>;
  const dataset = str(d, 'dataset', 'data.');
  if (!(DATASETS as readonly string[]).includes(dataset)) fail(`"data.dataset" must be one of ${DATASETS.join(', ')}, got ${JSON.stringify(dataset)}`);
  const p = (obj['policy'] ?? {}) as Record<string, unknown>;
  const list = <T extends string>(key: string, allowed: readonly T[], fallback: T[]): T[] => {
    const v = p[key] ?? fallback;
    if (!Array.isArray(v) || v.some((x) => !(allowed as readonly unknown[]).includes(x))) {
      fail(`"policy.${key}" must be a list drawn from ${allowed.join(', ')}`);
    }
    return v as T[];
  };
  const backend = (obj['backend'] ?? 'auto') as BackendPreference;
  if (!BACKEND_PREFERENCES.includes(backend)) fail(`"backend" must be one of ${BACKEND_PREFERENCES.join(', ')}, got ${JSON.stringify(backend)}`);
  const reconnect = (obj['reconnect'] ?? {}) as Record<string, unknown>;
  const token = obj['enrolmentToken'];
  return {
    name: str(obj, 'name'),
    coordinatorUrl: url,
    coordinatorSigningPublicKey: str(obj, 'coordinatorSigningPublicKey'),
    identityFile: resolve(base, str(obj, 'identityFile')),
    enrolmentToken: typeof token === 'string' && token.length > 0 ? token : null,
    data: { dataset: dataset as DatasetName, path: resolve(base, str(d, 'path', 'data.')), center: str(d, 'center', 'data.') },
    policy: {
      minCohortSize: int(p, 'minCohortSize', DEFAULT_POLICY.minCohortSize, 1, 1_000_000, 'policy.'),
      allowedDatasets: list('allowedDatasets', DATASETS, DEFAULT_POLICY.allowedDatasets),
      allowedModelFamilies: list('allowedModelFamilies', MODEL_FAMILIES, DEFAULT_POLICY.allowedModelFamilies),
      maxLocalSteps: int(p, 'maxLocalSteps', DEFAULT_POLICY.maxLocalSteps, 1, 10_000_000, 'policy.'),
    },
    backend,
    stateDir: resolve(base, typeof obj['stateDir'] === 'string' ? (obj['stateDir'] as string) : '.'),
    ...(typeof obj['auditLogPath'] === 'string' ? { auditLogPath: resolve(base, obj['auditLogPath'] as string) } : {}),
    maxFrameBytes: int(obj, 'maxFrameBytes', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    reconnect: {
      minDelayMs: int(reconnect, 'minDelayMs', 500, 10, 600_000, 'reconnect.'),
      maxDelayMs: int(reconnect, 'maxDelayMs', 30_000, 10, 3_600_000, 'reconnect.'),
    },
  };
}
