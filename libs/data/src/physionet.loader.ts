import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { DataSchemaError } from './data-schema.error';
import { mulberry32, shuffleInPlace } from './seeded-shuffle.util';
import { readTarGzEntries } from './tar.reader';

/** Patients' 48-hour ICU time series on an hourly grid, with observation masks and time gaps (GRU-D inputs). */
export interface IcuSequences {
  /** Number of patients. */
  n: number;
  /** Hourly steps per patient (48). */
  steps: number;
  /** Time-series variable names, in feature order. */
  features: string[];
  /** n×steps×F values in the variables' own units (unnormalised); 0 where nothing was observed. */
  values: Float32Array;
  /** n×steps×F: 1 where the variable was observed (and plausible) in that hour, else 0. */
  mask: Float32Array;
  /** n×steps×F: hours since the variable was last observed before this step (Che et al. 2018, eq. 2; 0 at step 0). */
  delta: Float32Array;
  /** n×S static descriptors, see `staticNames`; 0 where missing. */
  statics: Float32Array;
  staticNames: string[];
  /** In-hospital death (1) or survival (0). */
  y: Float32Array;
  /** ICU type 1–4 (1 Coronary Care, 2 Cardiac Surgery Recovery, 3 Medical, 4 Surgical). */
  icuType: Int32Array;
  recordIds: Int32Array;
}

/** What loading found and cleaned, as counts only (never values or record ids). */
export interface PhysionetLoadReport {
  records: number;
  /** Record files whose SHA-256 was checked against records_sha256.txt (all of them). */
  verifiedFiles: number;
  /** Time-series observations read (excluding the general descriptors). */
  observations: number;
  /** Per variable: observations (or static descriptors) outside the plausible range, treated as missing. */
  implausible: Record<string, number>;
  /** Per descriptor: the challenge's −1 "missing" markers. */
  missingMarkers: Record<string, number>;
  /** Observations time-stamped after 48:00, ignored. */
  afterWindow: number;
}

/** The 37 time-series variables of the PhysioNet/CinC Challenge 2012, in the challenge's alphabetical order. */
export const PHYSIONET_FEATURES: readonly string[] = Object.freeze([
  'ALP', 'ALT', 'AST', 'Albumin', 'BUN', 'Bilirubin', 'Cholesterol', 'Creatinine', 'DiasABP', 'FiO2', 'GCS',
  'Glucose', 'HCO3', 'HCT', 'HR', 'K', 'Lactate', 'MAP', 'MechVent', 'Mg', 'NIDiasABP', 'NIMAP', 'NISysABP',
  'Na', 'PaCO2', 'PaO2', 'Platelets', 'RespRate', 'SaO2', 'SysABP', 'Temp', 'TroponinI', 'TroponinT', 'Urine',
  'WBC', 'Weight', 'pH',
]);

/** Static columns: descriptors (0 when missing) followed by indicators of whether each optional one was recorded. */
export const PHYSIONET_STATIC_NAMES: readonly string[] = Object.freeze([
  'Age', 'Gender', 'Height', 'Weight', 'Gender_observed', 'Height_observed', 'Weight_observed',
]);

/** Hourly steps in the 48-hour window. */
export const PHYSIONET_STEPS = 48;

const DESCRIPTORS = new Set(['RecordID', 'Age', 'Gender', 'Height', 'ICUType', 'Weight']);
// v > 0: the smallest positive double as an inclusive lower bound.
const POS = Number.MIN_VALUE;

/**
 * Plausible ranges [min, max], inclusive. Values outside are recording artefacts rather than patients, and are
 * treated as not observed (and counted):
 * - 0 for blood pressures, heart rate, respiratory rate and lab concentrations: a disconnected line or an
 *   empty field, not a living patient (Urine 0 mL is a real reading and is kept);
 * - Temp < 25 °C (e.g. −17.8 = 0 °F entered as °C); pH outside 6.5–8.0 (values such as 735 are pH × 100
 *   typed without the point; we do not guess the rescaling); PaCO2 < 5 mmHg; K > 15 mmol/L (haemolysed sample);
 * - Weight outside 20–300 kg, Height outside 100–250 cm (the largest recorded heights are inches or typos).
 * Bounds follow the physiological limits used by common cleanings of this data set (e.g. Johnson et al.,
 * CinC 2012; Che et al., GRU-D) rounded outward, so that only impossible values are removed.
 */
const RANGES: Readonly<Record<string, readonly [number, number]>> = {
  ALP: [POS, Infinity], ALT: [POS, Infinity], AST: [POS, Infinity], Albumin: [POS, 10], BUN: [POS, 300],
  Bilirubin: [POS, 100], Cholesterol: [POS, Infinity], Creatinine: [POS, 30], DiasABP: [POS, 300],
  FiO2: [0.21, 1], GCS: [3, 15], Glucose: [POS, 2000], HCO3: [POS, 100], HCT: [POS, 100], HR: [POS, 300],
  K: [POS, 15], Lactate: [POS, 40], MAP: [POS, 300], MechVent: [0, 1], Mg: [POS, 20], NIDiasABP: [POS, 300],
  NIMAP: [POS, 300], NISysABP: [POS, 300], Na: [POS, 200], PaCO2: [5, 150], PaO2: [POS, 700],
  Platelets: [POS, Infinity], RespRate: [POS, 100], SaO2: [POS, 100], SysABP: [POS, 300], Temp: [25, 45],
  TroponinI: [POS, Infinity], TroponinT: [POS, Infinity], Urine: [0, Infinity], WBC: [POS, Infinity],
  Weight: [20, 300], pH: [6.5, 8], Height: [100, 250], Age: [0, 120],
};
// Urine is charted as volumes over intervals, so an hour's output is their sum; other variables are averaged.
const SUMMED = new Set(['Urine']);

const TAR_FILE = 'set-a.tar.gz';
const OUTCOMES_FILE = 'Outcomes-a.txt';
const SHA_FILE = 'records_sha256.txt';
const OUTCOME_HEADER = 'RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death';

/**
 * Loads PhysioNet/CinC Challenge 2012 set A (Silva et al., CinC 2012;39:245–248) from `dir`: the record files in
 * `set-a.tar.gz`, each checked against `records_sha256.txt`, and `In-hospital_death` from `Outcomes-a.txt`.
 * See {@link readPhysionet2012} for the grid, cleaning and counts.
 * @param dir folder holding set-a.tar.gz, Outcomes-a.txt and records_sha256.txt (see its PROVENANCE.md)
 * @throws DataSchemaError naming the file (and column, with row counts) when something does not match
 */
export function loadPhysionet2012(dir: string): IcuSequences {
  return readPhysionet2012(dir).sequences;
}

/**
 * Loads set A like {@link loadPhysionet2012} and also returns what was cleaned. Each record becomes a 48-step hourly
 * grid (step h = [h, h+1) hours after admission; an observation at exactly 48:00 falls in step 47) of the 37
 * challenge variables: the mean of the hour's plausible observations (Urine: the sum), a mask of observed cells
 * and GRU-D's time since the last observation (Che et al., Sci. Rep. 8:6085, 2018). The 00:00 descriptor rows give
 * the statics and the ICU type; a later Weight row is a time-series observation. Records are in RecordID order.
 * @param dir folder holding the set-A files
 */
export function readPhysionet2012(dir: string): { sequences: IcuSequences; report: PhysionetLoadReport } {
  const members = readTarGzEntries(readFileSync(join(dir, TAR_FILE)), TAR_FILE);
  const recordFiles = [...members.keys()].filter((m) => /(^|\/)\d+\.txt$/.test(m)).sort();
  if (recordFiles.length === 0) throw new DataSchemaError(`${TAR_FILE}: no record files <RecordID>.txt`);
  const verifiedFiles = verifyHashes(join(dir, SHA_FILE), members, recordFiles);
  const outcomes = readOutcomes(join(dir, OUTCOMES_FILE));

  const n = recordFiles.length;
  const F = PHYSIONET_FEATURES.length;
  const S = PHYSIONET_STATIC_NAMES.length;
  const cell = PHYSIONET_STEPS * F;
  const seqs: IcuSequences = {
    n,
    steps: PHYSIONET_STEPS,
    features: [...PHYSIONET_FEATURES],
    values: new Float32Array(n * cell),
    mask: new Float32Array(n * cell),
    delta: new Float32Array(n * cell),
    statics: new Float32Array(n * S),
    staticNames: [...PHYSIONET_STATIC_NAMES],
    y: new Float32Array(n),
    icuType: new Int32Array(n),
    recordIds: new Int32Array(n),
  };
  const report: PhysionetLoadReport = { records: n, verifiedFiles, observations: 0, implausible: {}, missingMarkers: {}, afterWindow: 0 };
  const featureIndex = new Map(PHYSIONET_FEATURES.map((f, i) => [f, i]));
  const problems = new Map<string, number>();
  const problem = (what: string) => problems.set(what, (problems.get(what) ?? 0) + 1);
  const implausible = (name: string) => (report.implausible[name] = (report.implausible[name] ?? 0) + 1);
  const sums = new Float64Array(cell);
  const counts = new Float64Array(cell);
  let withoutOutcome = 0;

  recordFiles.forEach((member, r) => {
    const bytes = members.get(member) as Uint8Array;
    const lines = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1').split('\n');
    if (lines[0].replace(/\r$/, '') !== 'Time,Parameter,Value') problem('header is not Time,Parameter,Value');
    sums.fill(0);
    counts.fill(0);
    const descriptors = new Map<string, number>();
    for (let l = 1; l < lines.length; l++) {
      const raw = lines[l];
      const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
      if (line.length === 0) continue;
      const c1 = line.indexOf(',');
      const c2 = line.indexOf(',', c1 + 1);
      const minutes = c1 > 0 ? parseMinutes(line, c1) : NaN;
      const param = line.slice(c1 + 1, c2);
      const text = line.slice(c2 + 1);
      const value = Number(text);
      if (c1 < 0 || c2 < 0 || Number.isNaN(minutes) || text.trim() === '' || !Number.isFinite(value)) {
        problem('rows that are not HH:MM,Parameter,number');
        continue;
      }
      // The general descriptors are the first rows at 00:00; a repeated Weight is a measurement.
      if (minutes === 0 && DESCRIPTORS.has(param) && !descriptors.has(param)) {
        descriptors.set(param, value);
        continue;
      }
      const f = featureIndex.get(param);
      if (f === undefined) {
        problem(`column Parameter: rows with an unknown variable`);
        continue;
      }
      report.observations++;
      if (minutes > PHYSIONET_STEPS * 60) {
        report.afterWindow++;
        continue;
      }
      const [lo, hi] = RANGES[param];
      if (value < lo || value > hi) {
        implausible(param);
        continue;
      }
      const k = Math.min(Math.floor(minutes / 60), PHYSIONET_STEPS - 1) * F + f;
      sums[k] += value;
      counts[k]++;
    }

    const recordId = descriptors.get('RecordID');
    const icu = descriptors.get('ICUType');
    if (recordId === undefined || !Number.isInteger(recordId) || `${recordId}.txt` !== member.slice(member.lastIndexOf('/') + 1)) {
      problem('RecordID descriptor missing or not matching the file name');
    }
    if (icu === undefined || ![1, 2, 3, 4].includes(icu)) problem('ICUType descriptor missing or not 1-4');
    seqs.recordIds[r] = recordId ?? -1;
    seqs.icuType[r] = icu ?? 0;
    const death = outcomes.get(recordId ?? -1);
    if (death === undefined) withoutOutcome++;
    seqs.y[r] = death ?? 0;

    const base = r * cell;
    for (let k = 0; k < cell; k++) {
      if (counts[k] > 0) {
        seqs.mask[base + k] = 1;
        seqs.values[base + k] = SUMMED.has(PHYSIONET_FEATURES[k % F]) ? sums[k] : sums[k] / counts[k];
      }
    }
    for (let t = 1; t < PHYSIONET_STEPS; t++) {
      for (let f = 0; f < F; f++) {
        const prev = base + (t - 1) * F + f;
        seqs.delta[prev + F] = 1 + (seqs.mask[prev] === 1 ? 0 : seqs.delta[prev]);
      }
    }
    writeStatics(seqs.statics.subarray(r * S, (r + 1) * S), descriptors, report, implausible);
  });

  for (const [what, count] of problems) throw new DataSchemaError(`${TAR_FILE}: ${count} row(s)/record(s) with ${what}`);
  if (withoutOutcome > 0) throw new DataSchemaError(`${OUTCOMES_FILE}: ${withoutOutcome} record(s) have no outcome row`);
  return { sequences: seqs, report };
}

/** Minutes since admission from `line[0, end)` in the form H…H:MM, or NaN (hand-parsed: it runs 1.7 million times). */
function parseMinutes(line: string, end: number): number {
  const colon = line.indexOf(':');
  if (colon < 1 || colon !== end - 3) return NaN;
  let hours = 0;
  for (let i = 0; i < colon; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    hours = hours * 10 + d;
  }
  const m1 = line.charCodeAt(colon + 1) - 48;
  const m2 = line.charCodeAt(colon + 2) - 48;
  if (m1 < 0 || m1 > 5 || m2 < 0 || m2 > 9) return NaN;
  return hours * 60 + m1 * 10 + m2;
}

/** Age, Gender, Height, Weight and the observed indicators; −1 markers and implausible values become 0 (missing). */
function writeStatics(
  out: Float32Array,
  descriptors: Map<string, number>,
  report: PhysionetLoadReport,
  implausible: (name: string) => void,
): void {
  const read = (name: string, valid: (v: number) => boolean): number | undefined => {
    const v = descriptors.get(name);
    if (v === undefined) return undefined;
    if (v === -1) {
      report.missingMarkers[name] = (report.missingMarkers[name] ?? 0) + 1;
      return undefined;
    }
    if (!valid(v)) {
      implausible(name);
      return undefined;
    }
    return v;
  };
  const inRange = (name: string) => (v: number) => v >= RANGES[name][0] && v <= RANGES[name][1];
  const age = read('Age', inRange('Age'));
  const gender = read('Gender', (v) => v === 0 || v === 1);
  const height = read('Height', inRange('Height'));
  const weight = read('Weight', inRange('Weight'));
  out.set([age ?? 0, gender ?? 0, height ?? 0, weight ?? 0, gender === undefined ? 0 : 1, height === undefined ? 0 : 1, weight === undefined ? 0 : 1]);
}

/** Checks every record file against records_sha256.txt (`<hex>  <path>` lines); returns how many were checked. */
function verifyHashes(path: string, members: Map<string, Uint8Array>, recordFiles: string[]): number {
  const expected = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?(.+?)\r?$/.exec(line);
    if (m) expected.set(m[2], m[1]);
  }
  let unlisted = 0;
  let mismatched = 0;
  for (const file of recordFiles) {
    const want = expected.get(file);
    if (want === undefined) unlisted++;
    else if (createHash('sha256').update(members.get(file) as Uint8Array).digest('hex') !== want) mismatched++;
  }
  if (unlisted > 0) throw new DataSchemaError(`${SHA_FILE}: ${unlisted} record file(s) of ${TAR_FILE} are not listed`);
  if (mismatched > 0) throw new DataSchemaError(`${TAR_FILE}: ${mismatched} record file(s) do not match ${SHA_FILE}`);
  const missing = [...expected.keys()].filter((f) => !members.has(f)).length;
  if (missing > 0) throw new DataSchemaError(`${TAR_FILE}: ${missing} record file(s) listed in ${SHA_FILE} are missing`);
  return recordFiles.length;
}

/** RecordID → In-hospital_death (0/1) from Outcomes-a.txt. */
function readOutcomes(path: string): Map<number, number> {
  const lines = readFileSync(path, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
  if (lines[0] !== OUTCOME_HEADER) throw new DataSchemaError(`${OUTCOMES_FILE}: header is not ${OUTCOME_HEADER}`);
  const outcomes = new Map<number, number>();
  let bad = 0;
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const id = Number(cells[0]);
    const death = Number(cells[5]);
    if (cells.length !== 6 || !Number.isInteger(id) || (death !== 0 && death !== 1)) bad++;
    else outcomes.set(id, death);
  }
  if (bad > 0) throw new DataSchemaError(`${OUTCOMES_FILE}: column In-hospital_death has ${bad} row(s) that are not RecordID,…,0|1`);
  return outcomes;
}

/**
 * The patients of one ICU type — one federated site per unit, the natural split of the challenge data.
 * @param seqs loaded sequences
 * @param icuType 1 Coronary Care, 2 Cardiac Surgery Recovery, 3 Medical ICU, 4 Surgical ICU
 */
export function icuSite(seqs: IcuSequences, icuType: 1 | 2 | 3 | 4): IcuSequences {
  const indices: number[] = [];
  for (let i = 0; i < seqs.n; i++) if (seqs.icuType[i] === icuType) indices.push(i);
  return subsetSequences(seqs, indices);
}

/**
 * Holds out a stratified test part: within each outcome, `round(fraction × count)` patients chosen by a seeded
 * shuffle go to the test part. Both parts keep the original (RecordID) order.
 * @param seqs patients to divide
 * @param fraction share held out, in (0, 1)
 * @param seed seed of the shuffle
 * @throws RangeError if fraction is not in (0, 1)
 */
export function holdOut(seqs: IcuSequences, fraction: number, seed: number): { train: IcuSequences; test: IcuSequences } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`fraction must be in (0, 1), got ${fraction}`);
  const random = mulberry32(seed);
  const inTest = new Uint8Array(seqs.n);
  for (const outcome of [0, 1]) {
    const members: number[] = [];
    for (let i = 0; i < seqs.n; i++) if (seqs.y[i] === outcome) members.push(i);
    shuffleInPlace(members, random)
      .slice(0, Math.round(fraction * members.length))
      .forEach((i) => (inTest[i] = 1));
  }
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < seqs.n; i++) (inTest[i] ? test : train).push(i);
  return { train: subsetSequences(seqs, train), test: subsetSequences(seqs, test) };
}

/**
 * The patients at `indices` (in that order), with all arrays copied.
 * @param seqs source sequences
 * @param indices patient positions in `seqs`
 */
export function subsetSequences(seqs: IcuSequences, indices: readonly number[]): IcuSequences {
  const F = seqs.features.length;
  const S = seqs.staticNames.length;
  const cell = seqs.steps * F;
  const n = indices.length;
  const out: IcuSequences = {
    n,
    steps: seqs.steps,
    features: [...seqs.features],
    values: new Float32Array(n * cell),
    mask: new Float32Array(n * cell),
    delta: new Float32Array(n * cell),
    statics: new Float32Array(n * S),
    staticNames: [...seqs.staticNames],
    y: new Float32Array(n),
    icuType: new Int32Array(n),
    recordIds: new Int32Array(n),
  };
  indices.forEach((src, dst) => {
    out.values.set(seqs.values.subarray(src * cell, (src + 1) * cell), dst * cell);
    out.mask.set(seqs.mask.subarray(src * cell, (src + 1) * cell), dst * cell);
    out.delta.set(seqs.delta.subarray(src * cell, (src + 1) * cell), dst * cell);
    out.statics.set(seqs.statics.subarray(src * S, (src + 1) * S), dst * S);
    out.y[dst] = seqs.y[src];
    out.icuType[dst] = seqs.icuType[src];
    out.recordIds[dst] = seqs.recordIds[src];
  });
  return out;
}
