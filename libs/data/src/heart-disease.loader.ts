import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import { DataSchemaError } from './data-schema.error';
import { TabularSplit } from './tabular-split.types';

/** The four Fed-Heart-Disease hospitals, in FLamby's center-id order 0..3. */
export const HEART_DISEASE_CENTERS = ['cleveland', 'hungarian', 'switzerland', 'va'] as const;
/** One Fed-Heart-Disease hospital. */
export type HeartDiseaseCenter = (typeof HEART_DISEASE_CENTERS)[number];

/** The 13 model features in FLamby's order (after `get_dummies(columns=[cp, restecg], drop_first=True)`). */
export const HEART_DISEASE_FEATURES: readonly string[] = Object.freeze([
  'age',
  'sex',
  'trestbps',
  'chol',
  'fbs',
  'thalach',
  'exang',
  'oldpeak',
  'cp_2',
  'cp_3',
  'cp_4',
  'restecg_1',
  'restecg_2',
]);

/** One hospital's FLamby train/test split, unnormalised. */
export interface CenterData {
  center: HeartDiseaseCenter;
  train: TabularSplit;
  test: TabularSplit;
}

/** The UCI "processed" 14-attribute columns, by position. */
const RAW_COLUMNS = [
  'age',
  'sex',
  'cp',
  'trestbps',
  'chol',
  'fbs',
  'restecg',
  'thalach',
  'exang',
  'oldpeak',
  'slope',
  'ca',
  'thal',
  'num',
] as const;
const CP = 2;
const RESTECG = 6;
const LABEL = 13;
/** FLamby drops slope, ca and thal (mostly missing outside Cleveland) before dropping incomplete rows. */
const DROPPED = new Set([10, 11, 12]);
/** Raw columns copied as-is into the features, in output order; cp and restecg are one-hot encoded after them. */
const PASSTHROUGH = [0, 1, 3, 4, 5, 7, 8, 9];
const CP_LEVELS = [1, 2, 3, 4];
const RESTECG_LEVELS = [0, 1, 2];

const SPLIT_FILE = 'flamby_split_seed43.csv';
const SPLIT_HEADER = ['center_id', 'center', 'raw_line', 'index_after_dropna', 'set', 'num_raw', 'label'];
// Plain decimal numbers as the UCI files write them, including a bare leading dot (".7").
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Splits a text file into non-empty lines, tolerating a trailing newline and CRLF. */
function lines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
}

/** Throws one DataSchemaError per (column, problem) with the number of affected rows, if any. */
function reportCounts(file: string, counts: Map<string, number>, problem: string): void {
  for (const [column, count] of counts) {
    if (count > 0) {
      throw new DataSchemaError(`${file}: column ${column} has ${count} row(s) ${problem}`);
    }
  }
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

interface SplitRow {
  rawLine: number;
  set: 'train' | 'test';
  label: number;
}

/** Reads this center's rows of the split file, in `index_after_dropna` order. */
function readSplitFile(dir: string, center: HeartDiseaseCenter): SplitRow[] {
  const path = join(dir, SPLIT_FILE);
  const all = lines(readFileSync(path, 'utf8'));
  if (all.length === 0 || all[0] !== SPLIT_HEADER.join(',')) {
    throw new DataSchemaError(`${SPLIT_FILE}: header is not ${SPLIT_HEADER.join(',')}`);
  }
  const centerId = HEART_DISEASE_CENTERS.indexOf(center);
  const rows: SplitRow[] = [];
  const bad = new Map<string, number>();
  let wrongWidth = 0;
  for (const line of all.slice(1)) {
    const cells = line.split(',');
    if (cells.length !== SPLIT_HEADER.length) {
      wrongWidth++;
      continue;
    }
    if (cells[1] !== center) {
      continue;
    }
    if (Number(cells[0]) !== centerId) bump(bad, 'center_id');
    if (cells[4] !== 'train' && cells[4] !== 'test') bump(bad, 'set');
    if (cells[6] !== '0' && cells[6] !== '1') bump(bad, 'label');
    if (!/^\d+$/.test(cells[2])) bump(bad, 'raw_line');
    if (Number(cells[3]) !== rows.length) bump(bad, 'index_after_dropna');
    rows.push({ rawLine: Number(cells[2]), set: cells[4] as 'train' | 'test', label: Number(cells[6]) });
  }
  if (wrongWidth > 0) {
    throw new DataSchemaError(`${SPLIT_FILE}: ${wrongWidth} row(s) do not have ${SPLIT_HEADER.length} columns`);
  }
  reportCounts(SPLIT_FILE, bad, 'with an unexpected value');
  if (rows.length === 0) {
    throw new DataSchemaError(`${SPLIT_FILE}: has no rows for center ${center}`);
  }
  return rows;
}

/**
 * Loads one Fed-Heart-Disease hospital exactly as FLamby (Ogier du Terrail et al., NeurIPS 2022) prepares it:
 * reads `processed.<center>.data`, drops slope/ca/thal, drops rows with any remaining '?', binarises
 * `num` (0 → 0, 1–4 → 1), one-hot encodes cp and restecg with the first level dropped, and assigns
 * train/test from `flamby_split_seed43.csv` (sklearn's seed-43 stratified 66/34 split, precomputed).
 * Features are returned unnormalised; see fitStandardizer.
 *
 * @param dir folder holding the four raw files and the split file.
 * @param center which hospital.
 * @throws DataSchemaError when the raw file is not 14 numeric-or-'?' columns with a 0..4 label and known
 *   cp/restecg levels, or when its kept rows do not match the split file.
 */
export function loadHeartDiseaseCenter(dir: string, center: HeartDiseaseCenter): CenterData {
  if (!HEART_DISEASE_CENTERS.includes(center)) {
    throw new DataSchemaError(`unknown center '${String(center)}', expected one of ${HEART_DISEASE_CENTERS.join(', ')}`);
  }
  const file = `processed.${center}.data`;
  const raw = lines(readFileSync(join(dir, file), 'utf8'));
  const width = RAW_COLUMNS.length;

  const wrongWidth = raw.filter((l) => l.split(',').length !== width).length;
  if (wrongWidth > 0) {
    throw new DataSchemaError(`${file}: ${wrongWidth} row(s) do not have ${width} columns`);
  }

  const nonNumeric = new Map<string, number>();
  const outOfRange = new Map<string, number>();
  const kept: { rawLine: number; values: number[] }[] = [];
  raw.forEach((line, i) => {
    const cells = line.split(',');
    let complete = true;
    const values = cells.map((cell, c) => {
      const name = `${c} (${RAW_COLUMNS[c]})`;
      if (cell === '?') {
        if (!DROPPED.has(c)) complete = false;
        return Number.NaN;
      }
      if (!NUMBER.test(cell)) {
        bump(nonNumeric, name);
        return Number.NaN;
      }
      return Number(cell);
    });
    const checkLevels = (c: number, levels: number[]) => {
      if (!Number.isNaN(values[c]) && !levels.includes(values[c])) bump(outOfRange, `${c} (${RAW_COLUMNS[c]})`);
    };
    checkLevels(LABEL, [0, 1, 2, 3, 4]);
    checkLevels(CP, CP_LEVELS);
    checkLevels(RESTECG, RESTECG_LEVELS);
    if (complete) kept.push({ rawLine: i + 1, values });
  });
  reportCounts(file, nonNumeric, "that are neither a number nor '?'");
  reportCounts(file, outOfRange, 'outside the allowed levels (num 0-4, cp 1-4, restecg 0-2)');

  const split = readSplitFile(dir, center);
  if (split.length !== kept.length) {
    throw new DataSchemaError(
      `${file}: ${kept.length} complete row(s) but ${basename(SPLIT_FILE)} lists ${split.length} for ${center}`,
    );
  }
  const misaligned = split.filter((s, i) => s.rawLine !== kept[i].rawLine).length;
  if (misaligned > 0) {
    throw new DataSchemaError(`${file}: ${misaligned} complete row(s) are not at the line ${SPLIT_FILE} expects`);
  }
  const labelMismatch = split.filter((s, i) => s.label !== (kept[i].values[LABEL] === 0 ? 0 : 1)).length;
  if (labelMismatch > 0) {
    throw new DataSchemaError(`${file}: column 13 (num) disagrees with ${SPLIT_FILE} in ${labelMismatch} row(s)`);
  }

  const dim = HEART_DISEASE_FEATURES.length;
  const build = (which: 'train' | 'test'): TabularSplit => {
    const rows = kept.filter((_, i) => split[i].set === which);
    const x = new Float32Array(rows.length * dim);
    const y = new Float32Array(rows.length);
    rows.forEach(({ values }, r) => {
      const o = r * dim;
      PASSTHROUGH.forEach((c, j) => (x[o + j] = values[c]));
      // drop_first: level 1 of cp and level 0 of restecg are the all-zero reference.
      for (let k = 1; k < CP_LEVELS.length; k++) x[o + 7 + k] = values[CP] === CP_LEVELS[k] ? 1 : 0;
      for (let k = 1; k < RESTECG_LEVELS.length; k++) x[o + 10 + k] = values[RESTECG] === RESTECG_LEVELS[k] ? 1 : 0;
      y[r] = values[LABEL] === 0 ? 0 : 1;
    });
    return { x, y, n: rows.length, dim };
  };
  return { center, train: build('train'), test: build('test') };
}

/** Loads all four hospitals in FLamby's center order. @see loadHeartDiseaseCenter */
export function loadHeartDisease(dir: string): CenterData[] {
  return HEART_DISEASE_CENTERS.map((c) => loadHeartDiseaseCenter(dir, c));
}
