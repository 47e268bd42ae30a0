import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { DataSchemaError } from './data-schema.error';
import type { ExampleSet } from './example-set.types';
import { mulberry32, shuffleInPlace } from './seeded-shuffle.util';

/** The 12 Tox21 Data Challenge assays (Huang et al. 2016), in the file's column order. */
export const TOX21_ASSAYS: readonly string[] = Object.freeze([
  'NR-AR', 'NR-AR-LBD', 'NR-AhR', 'NR-Aromatase', 'NR-ER', 'NR-ER-LBD', 'NR-PPAR-gamma',
  'SR-ARE', 'SR-ATAD5', 'SR-HSE', 'SR-MMP', 'SR-p53',
]);

/** The data file (DeepChem's tox21.csv.gz, see data/tox21/PROVENANCE.md). */
export const TOX21_FILE = 'tox21.csv.gz';
/** The declared columns: the 12 assays (0, 1 or empty = not tested), then `mol_id` and `smiles`. */
export const TOX21_COLUMNS: readonly string[] = Object.freeze([...TOX21_ASSAYS, 'mol_id', 'smiles']);

/** Morgan (ECFP-like) fingerprint settings (Rogers & Hahn 2010): radius 2 ≈ ECFP4. */
export interface FingerprintSettings {
  /** Default 2. */
  radius: number;
  /** Fingerprint length in bits, a multiple of 8; default 1024 (DeepChem's ECFP default). */
  nBits: number;
}

/** Default fingerprint: Morgan radius 2, 1024 bits (DeepChem's CircularFingerprint defaults for MoleculeNet). */
export const TOX21_DEFAULT_FINGERPRINT: Readonly<FingerprintSettings> = Object.freeze({ radius: 2, nBits: 1024 });

/** The CSV's rows after the schema check, in file order. */
export interface Tox21Table {
  n: number;
  molIds: string[];
  smiles: string[];
  /** Row-major [n, 12]; NaN = assay not run on that molecule. */
  labels: Float32Array;
  /** SHA-256 (hex) of the uncompressed CSV bytes: the key of the fingerprint cache. */
  sha256: string;
}

/** What RDKit made of the SMILES: packed fingerprints, which molecules parsed, and their Bemis–Murcko scaffolds. */
export interface Tox21Features {
  settings: FingerprintSettings;
  /** RDKit MinimalLib version that computed them. */
  rdkitVersion: string;
  n: number;
  /** n × nBits/8 bytes; bit i of a molecule is (byte[i >> 3] >> (i & 7)) & 1, RDKit's order. All zero when not parsed. */
  fingerprints: Uint8Array;
  /** 1 where RDKit parsed the SMILES, else 0. */
  parsed: Uint8Array;
  /** Canonical SMILES of each molecule's Bemis–Murcko framework; '' for acyclic molecules and parse failures. */
  scaffolds: string[];
}

/** How the molecules are divided among the three sites. */
export type Tox21Partition = 'scaffold' | 'random';

/** Counts of what loading found (never SMILES or ids). */
export interface Tox21LoadReport {
  rows: number;
  /** SMILES RDKit could not parse (8 hypervalent aluminium salts in this file); left out of every site. */
  parseFailures: number;
  /** Distinct Bemis–Murcko scaffolds among the parsed molecules ('' = acyclic counts as one). */
  scaffolds: number;
  /** True when the fingerprints came from a verified cache file rather than a fresh RDKit run. */
  fromCache: boolean;
  /** Why a freshly computed cache could not be written (e.g. a read-only data folder); absent when it was, or was not needed. */
  cacheNotWritten?: string;
}

/** The site names of the Tox21 study. */
export const TOX21_SITES: readonly string[] = Object.freeze(['site-1', 'site-2', 'site-3']);

/** Fixed seed of the molecule-to-site assignment: every node must compute the same partition, whatever its split seed. */
export const TOX21_PARTITION_SEED = 2014;

/**
 * Parses and checks `tox21.csv.gz` against the declared schema: exactly the columns of TOX21_COLUMNS (any
 * order), assay cells 0, 1 or empty, a non-empty `smiles` and a unique, non-empty `mol_id` on every row.
 * @param bytes the gzipped file
 * @throws DataSchemaError naming the column and how many rows break it (never a value)
 */
export function parseTox21Csv(bytes: Uint8Array): Tox21Table {
  let raw: Buffer;
  try {
    raw = gunzipSync(bytes);
  } catch (e) {
    throw new DataSchemaError(`${TOX21_FILE}: not a gzip file (${(e as Error).message})`);
  }
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const lines = raw.toString('utf8').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2) throw new DataSchemaError(`${TOX21_FILE}: no data rows`);
  const header = lines[0].split(',');
  const missing = TOX21_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new DataSchemaError(`${TOX21_FILE}: missing column(s) ${missing.join(', ')}`);
  const extra = header.filter((c) => !TOX21_COLUMNS.includes(c));
  if (extra.length > 0) throw new DataSchemaError(`${TOX21_FILE}: undeclared column(s) ${extra.join(', ')}`);
  if (new Set(header).size !== header.length) throw new DataSchemaError(`${TOX21_FILE}: duplicated column names in the header`);

  const n = lines.length - 1;
  const assayIndex = TOX21_ASSAYS.map((a) => header.indexOf(a));
  const idIndex = header.indexOf('mol_id');
  const smilesIndex = header.indexOf('smiles');
  const labels = new Float32Array(n * TOX21_ASSAYS.length);
  const molIds: string[] = new Array(n);
  const smiles: string[] = new Array(n);
  const bad = new Map<string, number>();
  const flag = (what: string) => bad.set(what, (bad.get(what) ?? 0) + 1);
  let wrongWidth = 0;
  for (let r = 0; r < n; r++) {
    const cells = lines[r + 1].split(',');
    if (cells.length !== header.length) {
      wrongWidth++;
      continue;
    }
    assayIndex.forEach((c, k) => {
      const v = cells[c];
      if (v === '') labels[r * TOX21_ASSAYS.length + k] = NaN;
      else if (v === '0' || v === '1') labels[r * TOX21_ASSAYS.length + k] = Number(v);
      else flag(`column ${TOX21_ASSAYS[k]}: rows not 0, 1 or empty`);
    });
    molIds[r] = cells[idIndex];
    smiles[r] = cells[smilesIndex];
    if (cells[idIndex] === '') flag('column mol_id: empty rows');
    if (cells[smilesIndex] === '') flag('column smiles: empty rows');
  }
  if (wrongWidth > 0) throw new DataSchemaError(`${TOX21_FILE}: ${wrongWidth} of ${n} rows do not have ${header.length} fields`);
  const ids = new Set(molIds);
  if (ids.size !== n) bad.set('column mol_id: rows repeating an earlier id', n - ids.size);
  for (let r = 0; r < n; r++) {
    let any = false;
    for (let k = 0; k < TOX21_ASSAYS.length && !any; k++) any = !Number.isNaN(labels[r * TOX21_ASSAYS.length + k]);
    if (!any) flag('assay columns: rows with no label at all');
  }
  if (bad.size > 0) {
    const first = [...bad.entries()].map(([what, count]) => `${what}: ${count} of ${n}`);
    throw new DataSchemaError(`${TOX21_FILE}: ${first.join('; ')}`);
  }
  return { n, molIds, smiles, labels, sha256 };
}

/** The parts of RDKit MinimalLib's module and Mol that the featurizer uses (see @rdkit/rdkit's RDKit_minimal.d.ts). */
export interface RdkitLike {
  version(): string;
  get_mol(input: string): RdkitMolLike | null;
}
/** The Mol methods the featurizer uses. */
export interface RdkitMolLike {
  is_valid(): boolean;
  get_morgan_fp_as_uint8array(details: string): Uint8Array;
  get_json(): string;
  get_smiles(): string;
  delete(): void;
}

/**
 * Fingerprints and Bemis–Murcko scaffolds of `smiles` with RDKit MinimalLib. Self-contained (it is also run,
 * as its own source text, in a child process by the synchronous loader), so it references nothing outside.
 *
 * Scaffold (Bemis & Murcko, J. Med. Chem. 39:2887, 1996, as RDKit's MurckoScaffold): atoms of degree ≤ 1 are
 * pruned repeatedly, leaving ring systems and the linkers between them; terminal atoms double-bonded to that
 * framework (C=O on a ring) are kept; removed substituents become hydrogens. The framework is rebuilt as an
 * RDKit JSON molecule and written as canonical SMILES without stereochemistry. Acyclic molecules give ''.
 * A SMILES RDKit cannot parse gives an all-zero fingerprint and parsed = 0 — counted, never thrown.
 */
export function featurizeSmiles(rdkit: RdkitLike, smiles: readonly string[], settings: FingerprintSettings): Tox21Features {
  interface JsonAtom { z?: number; impHs?: number; chg?: number; nRad?: number; isotope?: number; stereo?: string }
  interface JsonBond { bo?: number; atoms: [number, number]; stereo?: string; stereoAtoms?: number[] }
  interface JsonMol { atoms: JsonAtom[]; bonds: JsonBond[] }
  interface JsonDoc { rdkitjson: unknown; defaults: { atom: JsonAtom; bond: { bo: number } }; molecules: JsonMol[] }
  const bytesPer = settings.nBits / 8;
  const n = smiles.length;
  const fingerprints = new Uint8Array(n * bytesPer);
  const parsed = new Uint8Array(n);
  const scaffolds: string[] = new Array(n).fill('');
  const fpDetails = JSON.stringify({ radius: settings.radius, nBits: settings.nBits });
  const scaffoldOf = (json: string): string => {
    const doc = JSON.parse(json) as JsonDoc;
    const mol = doc.molecules[0];
    const defaults = doc.defaults;
    const atomCount = mol.atoms.length;
    const degree = new Int32Array(atomCount);
    const order = (b: JsonBond) => b.bo ?? defaults.bond.bo;
    for (const b of mol.bonds) {
      degree[b.atoms[0]]++;
      degree[b.atoms[1]]++;
    }
    const originalDegree = Int32Array.from(degree);
    const kept = new Uint8Array(atomCount).fill(1);
    let changed = true;
    while (changed) {
      changed = false;
      for (let a = 0; a < atomCount; a++) {
        if (kept[a] && degree[a] <= 1) {
          kept[a] = 0;
          changed = true;
          for (const b of mol.bonds) {
            const [u, v] = b.atoms;
            if (u === a && kept[v]) degree[v]--;
            if (v === a && kept[u]) degree[u]--;
          }
        }
      }
    }
    if (!kept.some((k) => k === 1)) return '';
    const core = Uint8Array.from(kept);
    for (const b of mol.bonds) {
      const [u, v] = b.atoms;
      if (order(b) === 2 && core[u] && !core[v] && originalDegree[v] === 1) kept[v] = 1;
      if (order(b) === 2 && core[v] && !core[u] && originalDegree[u] === 1) kept[u] = 1;
    }
    const newIndex = new Int32Array(atomCount).fill(-1);
    const atoms: JsonAtom[] = [];
    for (let a = 0; a < atomCount; a++) {
      if (!kept[a]) continue;
      newIndex[a] = atoms.length;
      // Scaffold SMILES without stereochemistry, like MurckoScaffoldSmiles(includeChirality=False).
      atoms.push({ ...defaults.atom, ...mol.atoms[a], stereo: 'unspecified' });
    }
    const bonds: JsonBond[] = [];
    for (const b of mol.bonds) {
      const [u, v] = b.atoms;
      if (kept[u] && kept[v]) {
        bonds.push({ bo: order(b), atoms: [newIndex[u], newIndex[v]] });
      } else if (kept[u] !== kept[v]) {
        // A removed substituent is replaced by hydrogens on the framework atom (one per bond order).
        const stay = kept[u] ? u : v;
        atoms[newIndex[stay]].impHs = (atoms[newIndex[stay]].impHs ?? 0) + order(b);
      }
    }
    const out = { rdkitjson: doc.rdkitjson, defaults: { atom: defaults.atom, bond: { bo: 1, stereo: 'unspecified' } }, molecules: [{ atoms, bonds }] };
    const framework = rdkit.get_mol(JSON.stringify(out));
    if (framework === null) return '';
    try {
      return framework.is_valid() ? framework.get_smiles() : '';
    } finally {
      framework.delete();
    }
  };
  for (let i = 0; i < n; i++) {
    const mol = rdkit.get_mol(smiles[i]);
    if (mol === null) continue;
    try {
      if (!mol.is_valid()) continue;
      fingerprints.set(mol.get_morgan_fp_as_uint8array(fpDetails).subarray(0, bytesPer), i * bytesPer);
      parsed[i] = 1;
      scaffolds[i] = scaffoldOf(mol.get_json());
    } finally {
      mol.delete();
    }
  }
  return { settings: { ...settings }, rdkitVersion: rdkit.version(), n, fingerprints, parsed, scaffolds };
}

/** Loads RDKit MinimalLib (WebAssembly shipped inside @rdkit/rdkit; no network). */
export async function loadRdkit(): Promise<RdkitLike> {
  const factory = require('@rdkit/rdkit') as () => Promise<RdkitLike>;
  return factory();
}

function rdkitPackageVersion(): string {
  const main = require.resolve('@rdkit/rdkit');
  return (JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** A fingerprint cache file is not for this CSV, these settings or this RDKit, or is damaged. */
export class FingerprintCacheError extends Error {
  override readonly name = 'FingerprintCacheError';
}

interface CacheFile {
  format: 'medfed-tox21-features-1';
  csvSha256: string;
  radius: number;
  nBits: number;
  rdkitPackage: string;
  rdkitVersion: string;
  n: number;
  /** SHA-256 of fingerprints ‖ parsed ‖ scaffolds joined by newlines. */
  payloadSha256: string;
  fingerprints: string;
  parsed: string;
  scaffolds: string[];
}

/** Features as the cache file and the featurizing child process carry them: byte arrays in base64. */
type EncodedFeatures = Pick<CacheFile, 'rdkitVersion' | 'n' | 'fingerprints' | 'parsed' | 'scaffolds'>;

function decodeFeatures(settings: FingerprintSettings, e: EncodedFeatures): Tox21Features {
  return {
    settings: { ...settings },
    rdkitVersion: e.rdkitVersion,
    n: e.n,
    fingerprints: new Uint8Array(Buffer.from(e.fingerprints, 'base64')),
    parsed: new Uint8Array(Buffer.from(e.parsed, 'base64')),
    scaffolds: e.scaffolds,
  };
}

function payloadDigest(f: Tox21Features): string {
  return createHash('sha256').update(f.fingerprints).update(f.parsed).update(f.scaffolds.join('\n')).digest('hex');
}

/** The cache file name for `settings`, next to the CSV: `tox21.features.r<radius>-<nBits>.json`. */
export function fingerprintCachePath(dir: string, settings: FingerprintSettings): string {
  return join(dir, `tox21.features.r${settings.radius}-${settings.nBits}.json`);
}

/**
 * Reads a fingerprint cache and checks it belongs to `table` (its CSV SHA-256), `settings` and the installed RDKit,
 * and that its payload digest matches.
 * @throws FingerprintCacheError naming the first mismatch
 */
export function readFingerprintCache(path: string, table: Tox21Table, settings: FingerprintSettings): Tox21Features {
  let file: CacheFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
  } catch (e) {
    throw new FingerprintCacheError(`${path}: unreadable (${(e as Error).message})`);
  }
  const expect = (ok: boolean, what: string) => {
    if (!ok) throw new FingerprintCacheError(`${path}: ${what} does not match`);
  };
  expect(file.format === 'medfed-tox21-features-1', 'format');
  expect(file.csvSha256 === table.sha256, 'CSV SHA-256');
  expect(file.radius === settings.radius && file.nBits === settings.nBits, 'fingerprint settings');
  expect(file.rdkitPackage === rdkitPackageVersion(), '@rdkit/rdkit version');
  expect(file.n === table.n, 'row count');
  const features = decodeFeatures(settings, file);
  expect(features.fingerprints.length === file.n * (settings.nBits / 8) && features.parsed.length === file.n && features.scaffolds.length === file.n, 'payload size');
  expect(payloadDigest(features) === file.payloadSha256, 'payload SHA-256');
  return features;
}

/** Writes `features` as the cache of `table` (atomically, via a temporary file). */
export function writeFingerprintCache(path: string, table: Tox21Table, features: Tox21Features): void {
  const file: CacheFile = {
    format: 'medfed-tox21-features-1',
    csvSha256: table.sha256,
    radius: features.settings.radius,
    nBits: features.settings.nBits,
    rdkitPackage: rdkitPackageVersion(),
    rdkitVersion: features.rdkitVersion,
    n: features.n,
    payloadSha256: payloadDigest(features),
    fingerprints: Buffer.from(features.fingerprints).toString('base64'),
    parsed: Buffer.from(features.parsed).toString('base64'),
    scaffolds: features.scaffolds,
  };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(file));
  renameSync(tmp, path);
}

/** RDKit failed in the child process that computes fingerprints for the synchronous loader. */
export class FingerprintComputationError extends Error {
  override readonly name = 'FingerprintComputationError';
}

/**
 * Runs featurizeSmiles synchronously: RDKit's WebAssembly only initialises asynchronously, and a node's
 * DatasetDefinition.load is synchronous, so a child Node process runs it (its source text) and returns the result.
 */
function featurizeInChildProcess(smiles: readonly string[], settings: FingerprintSettings): Tox21Features {
  const script = `
    const featurize = ${featurizeSmiles.toString()};
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      require(process.argv[1])().then((rdkit) => {
        const f = featurize(rdkit, input.smiles, input.settings);
        process.stdout.write(JSON.stringify({ rdkitVersion: f.rdkitVersion, n: f.n,
          fingerprints: Buffer.from(f.fingerprints).toString('base64'), parsed: Buffer.from(f.parsed).toString('base64'), scaffolds: f.scaffolds }));
      });
    });`;
  let out: string;
  try {
    out = execFileSync(process.execPath, ['-e', script, require.resolve('@rdkit/rdkit')], {
      input: JSON.stringify({ smiles, settings }),
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'utf8',
    });
  } catch (e) {
    throw new FingerprintComputationError(`RDKit fingerprinting failed in a child process: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = JSON.parse(out) as EncodedFeatures;
  return decodeFeatures(settings, r);
}

/** Options of loadTox21. */
export interface Tox21LoadOptions {
  /** Default TOX21_DEFAULT_FINGERPRINT. */
  fingerprint?: FingerprintSettings;
  /** Write (or refresh) the cache file next to the CSV when it is missing or stale; default true. */
  writeCache?: boolean;
}

/** The whole file, checked and fingerprinted. */
export interface Tox21Data {
  table: Tox21Table;
  features: Tox21Features;
  report: Tox21LoadReport;
}

function validateSettings(settings: FingerprintSettings): void {
  if (!Number.isInteger(settings.radius) || settings.radius < 0 || settings.radius > 6) {
    throw new RangeError(`fingerprint radius must be an integer in [0, 6], got ${settings.radius}`);
  }
  if (!Number.isInteger(settings.nBits) || settings.nBits < 8 || settings.nBits % 8 !== 0) {
    throw new RangeError(`fingerprint nBits must be a positive multiple of 8, got ${settings.nBits}`);
  }
}

/**
 * Loads `tox21.csv.gz` from `dir` synchronously: schema check, then Morgan fingerprints and scaffolds from a cache
 * file next to the CSV (`tox21.features.r2-1024.json`, verified against the CSV's SHA-256, the settings and the
 * RDKit version) or, when that is missing or stale, computed by RDKit in a child process (≈ 5 s) and cached.
 * Unparseable SMILES are counted in the report, never thrown.
 * @throws DataSchemaError when the CSV does not match the declared schema
 */
export function loadTox21(dir: string, options: Tox21LoadOptions = {}): Tox21Data {
  const settings = options.fingerprint ?? TOX21_DEFAULT_FINGERPRINT;
  validateSettings(settings);
  const table = parseTox21Csv(readFileSync(join(dir, TOX21_FILE)));
  const cachePath = fingerprintCachePath(dir, settings);
  let features: Tox21Features | undefined;
  let fromCache = false;
  if (existsSync(cachePath)) {
    try {
      features = readFingerprintCache(cachePath, table, settings);
      fromCache = true;
    } catch (e) {
      // A stale or damaged cache is recomputed (and overwritten below); anything else is a real failure.
      if (!(e instanceof FingerprintCacheError)) throw e;
    }
  }
  let cacheNotWritten: string | undefined;
  if (features === undefined) {
    features = featurizeInChildProcess(table.smiles, settings);
    if (options.writeCache ?? true) {
      try {
        writeFingerprintCache(cachePath, table, features);
      } catch (e) {
        // A read-only data folder only costs the next load another RDKit run; the reason is reported.
        cacheNotWritten = (e as Error).message.split('\n')[0];
      }
    }
  }
  const report = reportOf(table, features, fromCache);
  return { table, features, report: cacheNotWritten === undefined ? report : { ...report, cacheNotWritten } };
}

/** Like loadTox21 but computes the fingerprints in this process with an already loaded RDKit (no cache). */
export function featurizeTox21(table: Tox21Table, rdkit: RdkitLike, settings: FingerprintSettings = TOX21_DEFAULT_FINGERPRINT): Tox21Data {
  validateSettings(settings);
  const features = featurizeSmiles(rdkit, table.smiles, settings);
  return { table, features, report: reportOf(table, features, false) };
}

function reportOf(table: Tox21Table, features: Tox21Features, fromCache: boolean): Tox21LoadReport {
  const parseFailures = features.parsed.reduce((c, p) => c + (p ? 0 : 1), 0);
  const scaffolds = new Set(features.scaffolds.filter((_, i) => features.parsed[i] === 1)).size;
  return { rows: table.n, parseFailures, scaffolds, fromCache };
}

/**
 * Assigns every parsed molecule to one of `sites` sites. `scaffold`: whole Bemis–Murcko scaffold groups (acyclic
 * molecules are one group), largest first, each to the site with the fewest molecules so far; groups of equal size
 * in a seeded order — a non-IID split where each site holds different chemical series (as in DeepChem's scaffold
 * splitter, but across sites). `random`: a seeded shuffle dealt into near-equal parts. Failed parses go nowhere.
 * @returns per site, the row indices (ascending)
 */
export function partitionTox21(data: Tox21Data, partition: Tox21Partition, sites = TOX21_SITES.length, seed = TOX21_PARTITION_SEED): number[][] {
  if (!Number.isInteger(sites) || sites < 1) throw new RangeError(`partitionTox21: sites must be a positive integer, got ${sites}`);
  const rng = mulberry32(seed);
  const rows = Array.from({ length: data.table.n }, (_, i) => i).filter((i) => data.features.parsed[i] === 1);
  const out: number[][] = Array.from({ length: sites }, () => []);
  if (partition === 'random') {
    shuffleInPlace(rows, rng);
    rows.forEach((r, k) => out[k % sites].push(r));
  } else if (partition === 'scaffold') {
    const groups = new Map<string, number[]>();
    for (const r of rows) {
      const key = data.features.scaffolds[r];
      const g = groups.get(key);
      if (g) g.push(r);
      else groups.set(key, [r]);
    }
    const list = shuffleInPlace([...groups.values()], rng);
    // Stable sort after the seeded shuffle: equal-size groups keep their random order.
    list.sort((a, b) => b.length - a.length);
    for (const g of list) {
      let best = 0;
      for (let s = 1; s < sites; s++) if (out[s].length < out[best].length) best = s;
      out[best].push(...g);
    }
  } else {
    throw new RangeError(`partitionTox21: unknown partition '${String(partition)}' (scaffold or random)`);
  }
  return out.map((o) => o.sort((a, b) => a - b));
}

/**
 * Seeded train/validation/test split of `rows` (default 80/10/10). Rows sharing a SMILES (183 in this file repeat one
 * under another id) stay in the same split, so a molecule is never tested on its own duplicate.
 */
export function splitTox21Rows(
  data: Tox21Data,
  rows: readonly number[],
  seed: number,
  fractions: readonly [number, number, number] = [0.8, 0.1, 0.1],
): { train: number[]; validation: number[]; test: number[] } {
  const bySmiles = new Map<string, number[]>();
  for (const r of rows) {
    const s = data.table.smiles[r];
    const g = bySmiles.get(s);
    if (g) g.push(r);
    else bySmiles.set(s, [r]);
  }
  const groups = shuffleInPlace([...bySmiles.values()], mulberry32(seed));
  const total = rows.length;
  const trainEnd = Math.round(total * fractions[0]);
  const validationEnd = Math.round(total * (fractions[0] + fractions[1]));
  const split = { train: [] as number[], validation: [] as number[], test: [] as number[] };
  let taken = 0;
  for (const g of groups) {
    const target = taken < trainEnd ? split.train : taken < validationEnd ? split.validation : split.test;
    target.push(...g);
    taken += g.length;
  }
  return split;
}

/** Unpacks the fingerprints of `rows` into an ExampleSet: `x` [n, nBits] of 0/1, labels [n, 12] with NaN = not tested. */
export function tox21Examples(data: Tox21Data, rows: readonly number[]): ExampleSet {
  const { nBits } = data.features.settings;
  const bytesPer = nBits / 8;
  const heads = TOX21_ASSAYS.length;
  const x = new Float32Array(rows.length * nBits);
  const labels = new Float32Array(rows.length * heads);
  rows.forEach((r, i) => {
    const fp = data.features.fingerprints.subarray(r * bytesPer, (r + 1) * bytesPer);
    for (let b = 0; b < nBits; b++) x[i * nBits + b] = (fp[b >> 3] >> (b & 7)) & 1;
    labels.set(data.table.labels.subarray(r * heads, (r + 1) * heads), i * heads);
  });
  return { n: rows.length, inputs: { x: { shape: [rows.length, nBits], data: x } }, labels: { shape: [rows.length, heads], data: labels } };
}
