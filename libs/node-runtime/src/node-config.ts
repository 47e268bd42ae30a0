import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DATASETS, DatasetName, MODEL_FAMILIES, ModelFamily, STRATEGIES, StrategyName } from '@medfed/protocol';
import { BackendPreference } from '@medfed/models';

/**
 * A hospital's standing rule for trusting the coordinator's signature: a manifest within all of these
 * bounds is approved without an operator (and the approval is recorded as `by: policy`). Absent by
 * default: then every manifest needs an operator's `medfed node approve`.
 */
export interface AutoApprovePolicy {
  datasets: DatasetName[];
  modelFamilies: ModelFamily[];
  strategies: StrategyName[];
  maxRounds: number;
  maxLocalSteps: number;
}

/** What this hospital lets its node do. Local, typed, and never sent to the coordinator. */
export interface LocalPolicy {
  /** Approve matching manifests without an operator; null (the default) requires an approval for each. */
  autoApprove: AutoApprovePolicy | null;
  /** Metrics over fewer patients than this are suppressed; training on fewer is declined. */
  minCohortSize: number;
  /** Data sets this node will train or evaluate on. */
  allowedDatasets: DatasetName[];
  /** Model families this node will run. */
  allowedModelFamilies: ModelFamily[];
  /** Upper bound on local steps per round, so a study cannot monopolise the node. */
  maxLocalSteps: number;
  /** This hospital's differential-privacy budget, enforced by the node itself (its ledger persists across restarts). */
  privacy: { maxEpsilonPerStudy: number; maxEpsilonTotal: number; delta: number };
}

/** Where the node's patients are: a data set name and where its files live on this machine. */
export interface DataSourceConfig {
  dataset: DatasetName;
  /** Folder holding the data set's files. */
  path: string;
  /** Which site of the data set this node holds (a hospital, an ICU type, a partition index). */
  center: string;
  /** How a single-file data set is divided among sites (BreastMNIST: `even` or `skewed`). */
  partition?: string;
  /** Seed of the site's train/validation/test split; default 42. */
  seed?: number;
}

export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'gpu', 'native', 'wasm', 'cpu'];

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
  autoApprove: null,
  minCohortSize: 10,
  allowedDatasets: ['fed-heart-disease'],
  allowedModelFamilies: ['logistic-regression', 'mlp'],
  maxLocalSteps: 10_000,
  privacy: { maxEpsilonPerStudy: 10, maxEpsilonTotal: 30, delta: 1e-5 },
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
    data: {
      dataset: dataset as DatasetName,
      path: resolve(base, str(d, 'path', 'data.')),
      center: str(d, 'center', 'data.'),
      ...(d['partition'] !== undefined ? { partition: str(d, 'partition', 'data.') } : {}),
      ...(d['seed'] !== undefined ? { seed: int(d, 'seed', 42, 0, 2 ** 31 - 1, 'data.') } : {}),
    },
    policy: {
      autoApprove: parseAutoApprove(p['autoApprove'], fail),
      minCohortSize: int(p, 'minCohortSize', DEFAULT_POLICY.minCohortSize, 1, 1_000_000, 'policy.'),
      allowedDatasets: list('allowedDatasets', DATASETS, DEFAULT_POLICY.allowedDatasets),
      allowedModelFamilies: list('allowedModelFamilies', MODEL_FAMILIES, DEFAULT_POLICY.allowedModelFamilies),
      maxLocalSteps: int(p, 'maxLocalSteps', DEFAULT_POLICY.maxLocalSteps, 1, 10_000_000, 'policy.'),
      privacy: parsePrivacy(p['privacy'], fail),
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

function parseAutoApprove(raw: unknown, fail: (msg: string) => never): AutoApprovePolicy | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) fail('"policy.autoApprove" must be an object or null');
  const o = raw as Record<string, unknown>;
  const list = <T extends string>(key: string, allowed: readonly T[]): T[] => {
    const v = o[key];
    if (!Array.isArray(v) || v.some((x) => !(allowed as readonly unknown[]).includes(x))) fail(`"policy.autoApprove.${key}" must be a list drawn from ${allowed.join(', ')}`);
    return v as T[];
  };
  const int = (key: string): number => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(`"policy.autoApprove.${key}" must be a positive integer`);
    return v as number;
  };
  return {
    datasets: list('datasets', DATASETS),
    modelFamilies: list('modelFamilies', MODEL_FAMILIES),
    strategies: list('strategies', STRATEGIES),
    maxRounds: int('maxRounds'),
    maxLocalSteps: int('maxLocalSteps'),
  };
}

function parsePrivacy(raw: unknown, fail: (msg: string) => never): LocalPolicy['privacy'] {
  if (raw === undefined || raw === null) return { ...DEFAULT_POLICY.privacy };
  if (typeof raw !== 'object' || Array.isArray(raw)) fail('"policy.privacy" must be an object');
  const o = raw as Record<string, unknown>;
  const num = (key: 'maxEpsilonPerStudy' | 'maxEpsilonTotal' | 'delta', max: number): number => {
    const v = o[key] ?? DEFAULT_POLICY.privacy[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) fail(`"policy.privacy.${key}" must be a number in (0, ${max}], got ${JSON.stringify(v)}`);
    return v as number;
  };
  return { maxEpsilonPerStudy: num('maxEpsilonPerStudy', 1e6), maxEpsilonTotal: num('maxEpsilonTotal', 1e6), delta: num('delta', 0.1) };
}
