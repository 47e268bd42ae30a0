import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { DataSchemaError } from './data-schema.error';
import { mulberry32, shuffleInPlace } from './seeded-shuffle.util';
import { readZipEntries } from './zip.reader';

/** The 23 medication columns of the data set, in the file's column order (the model's output order). */
export const DIABETES_MEDICATIONS: readonly string[] = Object.freeze([
  'metformin', 'repaglinide', 'nateglinide', 'chlorpropamide', 'glimepiride', 'acetohexamide', 'glipizide',
  'glyburide', 'tolbutamide', 'pioglitazone', 'rosiglitazone', 'acarbose', 'miglitol', 'troglitazone',
  'tolazamide', 'examide', 'citoglipton', 'insulin', 'glyburide-metformin', 'glipizide-metformin',
  'glimepiride-pioglitazone', 'metformin-rosiglitazone', 'metformin-pioglitazone',
]);

/**
 * The four federated sites: encounters grouped by `admission_source_id` (the data set has no hospital id, see
 * PROVENANCE.md), each a different care pathway with thousands of patients:
 * - `emergency`: 7 Emergency Room;
 * - `referral`: 1 Physician, 2 Clinic, 3 HMO referral;
 * - `transfer`: 4, 5, 6, 10, 18, 22, 25, 26 (from a hospital, SNF, other facility, critical-access hospital,
 *   home-health agency, same facility, ambulatory surgery, hospice);
 * - `other`: every other code (births, court/law enforcement, and the "Not Available"/NULL/"Not Mapped"/
 *   "Unknown" codes 9, 15, 17, 20, 21).
 */
export const DIABETES_SITES = ['emergency', 'referral', 'transfer', 'other'] as const;
/** One of the four site names. */
export type DiabetesSite = (typeof DIABETES_SITES)[number];

const SITE_OF_SOURCE: Readonly<Record<string, DiabetesSite>> = {
  '7': 'emergency',
  '1': 'referral', '2': 'referral', '3': 'referral',
  '4': 'transfer', '5': 'transfer', '6': 'transfer', '10': 'transfer', '18': 'transfer', '22': 'transfer', '25': 'transfer', '26': 'transfer',
};

/** How a column's cells are checked: integers in a range, one of a list of values, or a pattern. */
export type DiabetesColumnRule =
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'category'; values: readonly string[] }
  | { kind: 'pattern'; pattern: RegExp; description: string };

const MED_VALUES = ['No', 'Steady', 'Up', 'Down'] as const;
const ICD9 = {
  kind: 'pattern',
  // ICD-9-CM codes as exported: leading zeros dropped ('8' = 008), V and E codes, '?' when missing.
  pattern: /^(\d{1,3}(\.\d{1,2})?|V\d{1,2}(\.\d{1,2})?|E\d{3}(\.\d)?|\?)$/,
  description: 'an ICD-9 code or ?',
} as const;
const ID_1_TO_30 = { kind: 'integer', min: 1, max: 30 } as const;

/**
 * Declared schema of `diabetic_data.csv` (Strack et al. 2014, Table 1; UCI id 296): every column, in order, with
 * its type and allowed values. Integer ranges are the type's (counts ≥ 0, ids as listed in IDs_mapping.csv);
 * plausibility is checked separately during cleaning.
 */
export const DIABETES_SCHEMA: ReadonlyArray<readonly [string, DiabetesColumnRule]> = Object.freeze([
  ['encounter_id', { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER }],
  ['patient_nbr', { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER }],
  ['race', { kind: 'category', values: ['Caucasian', 'AfricanAmerican', 'Asian', 'Hispanic', 'Other', '?'] }],
  ['gender', { kind: 'category', values: ['Female', 'Male', 'Unknown/Invalid'] }],
  ['age', { kind: 'category', values: Array.from({ length: 10 }, (_, i) => `[${i * 10}-${i * 10 + 10})`) }],
  ['weight', { kind: 'category', values: ['?', '[0-25)', '[25-50)', '[50-75)', '[75-100)', '[100-125)', '[125-150)', '[150-175)', '[175-200)', '>200'] }],
  ['admission_type_id', { kind: 'integer', min: 1, max: 8 }],
  ['discharge_disposition_id', ID_1_TO_30],
  ['admission_source_id', { kind: 'integer', min: 1, max: 26 }],
  ['time_in_hospital', { kind: 'integer', min: 0, max: 1000 }],
  ['payer_code', { kind: 'pattern', pattern: /^([A-Z]{2}|\?)$/, description: 'a two-letter payer code or ?' }],
  ['medical_specialty', { kind: 'pattern', pattern: /^([A-Za-z&/-]+|\?)$/, description: 'a specialty name or ?' }],
  ['num_lab_procedures', { kind: 'integer', min: 0, max: 1000 }],
  ['num_procedures', { kind: 'integer', min: 0, max: 1000 }],
  ['num_medications', { kind: 'integer', min: 0, max: 1000 }],
  ['number_outpatient', { kind: 'integer', min: 0, max: 1000 }],
  ['number_emergency', { kind: 'integer', min: 0, max: 1000 }],
  ['number_inpatient', { kind: 'integer', min: 0, max: 1000 }],
  ['diag_1', ICD9],
  ['diag_2', ICD9],
  ['diag_3', ICD9],
  ['number_diagnoses', { kind: 'integer', min: 0, max: 1000 }],
  ['max_glu_serum', { kind: 'category', values: ['None', 'Norm', '>200', '>300'] }],
  ['A1Cresult', { kind: 'category', values: ['None', 'Norm', '>7', '>8'] }],
  ...DIABETES_MEDICATIONS.map((m) => [m, { kind: 'category', values: MED_VALUES }] as const),
  ['change', { kind: 'category', values: ['No', 'Ch'] }],
  ['diabetesMed', { kind: 'category', values: ['No', 'Yes'] }],
  ['readmitted', { kind: 'category', values: ['NO', '>30', '<30'] }],
] as Array<readonly [string, DiabetesColumnRule]>);

/**
 * Plausible ranges of the utilisation counts. The data set was extracted for stays of 1 to 14 days (Strack et
 * al. 2014, inclusion criterion 3) with at least one laboratory test and one medication (criteria 4 and 5); a row
 * outside is not a record of the study population and is dropped (and counted).
 */
const PLAUSIBLE: Readonly<Record<string, readonly [number, number]>> = {
  time_in_hospital: [1, 14],
  num_lab_procedures: [1, 200],
  num_procedures: [0, 50],
  num_medications: [1, 200],
  number_diagnoses: [1, 50],
};

/** Discharges to death or hospice (IDs_mapping.csv 11, 13, 14, 19, 20, 21): excluded, as by Strack et al. 2014. */
const EXPIRED_OR_HOSPICE = new Set(['11', '13', '14', '19', '20', '21']);

const RACES = ['AfricanAmerican', 'Asian', 'Caucasian', 'Hispanic', 'Other'];
const PAYERS = ['MC', 'HM', 'SP', 'BC', 'MD', 'CP', 'UN', 'CM'];
const SPECIALTIES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['internal_medicine', ['InternalMedicine']],
  ['emergency_trauma', ['Emergency/Trauma']],
  ['family_general_practice', ['Family/GeneralPractice']],
  ['cardiology', ['Cardiology']],
  ['surgery', ['Surgery-General', 'Surgery-Cardiovascular/Thoracic', 'Surgery-Vascular', 'Surgery-Neuro', 'Surgery-Cardiovascular', 'Surgery-Thoracic', 'Surgeon', 'SurgicalSpecialty', 'Surgery-Plastic', 'Surgery-Colon&Rectal', 'Surgery-Maxillofacial', 'Surgery-Pediatric', 'Surgery-PlasticwithinHeadandNeck']],
  ['nephrology', ['Nephrology']],
  ['orthopedics', ['Orthopedics', 'Orthopedics-Reconstructive']],
  ['radiology', ['Radiologist', 'Radiology']],
  ['pulmonology', ['Pulmonology']],
  ['psychiatry', ['Psychiatry', 'Psychiatry-Child/Adolescent', 'Psychiatry-Addictive']],
  ['endocrinology', ['Endocrinology', 'Endocrinology-Metabolism', 'Pediatrics-Endocrinology']],
];
const ADMISSION_TYPES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['emergency', ['1']],
  ['urgent', ['2']],
  ['elective', ['3']],
  // Newborn, trauma centre, not available, NULL, not mapped.
  ['other_or_unknown', ['4', '5', '6', '7', '8']],
];
const DISCHARGES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['home', ['1']],
  ['home_health', ['6', '8']],
  ['care_facility', ['2', '3', '4', '5', '9', '10', '15', '22', '23', '24', '27', '28', '29', '30']],
  // Left against medical advice, outpatient referrals, NULL, not mapped, unknown.
  ['other_or_unknown', ['7', '12', '16', '17', '18', '25', '26']],
];
const A1C = ['None', 'Norm', '>7', '>8'];
const GLUCOSE = ['None', 'Norm', '>200', '>300'];

/**
 * ICD-9-CM chapters (ICD-9-CM tabular list), with diabetes (250.xx) taken out of the endocrine chapter as
 * Strack et al. 2014 (Table 2) do, V/E codes together, and `missing` for '?'.
 */
export const ICD9_GROUPS: readonly string[] = Object.freeze([
  'infectious', 'neoplasms', 'diabetes', 'endocrine_other', 'blood', 'mental', 'nervous', 'circulatory',
  'respiratory', 'digestive', 'genitourinary', 'pregnancy', 'skin', 'musculoskeletal', 'congenital_perinatal',
  'symptoms', 'injury', 'supplementary', 'missing',
]);
/** Upper bounds (inclusive) of the numeric chapters, paired with their group. */
const ICD9_RANGES: ReadonlyArray<readonly [number, string]> = [
  [139, 'infectious'], [239, 'neoplasms'], [279, 'endocrine_other'], [289, 'blood'], [319, 'mental'],
  [389, 'nervous'], [459, 'circulatory'], [519, 'respiratory'], [579, 'digestive'], [629, 'genitourinary'],
  [679, 'pregnancy'], [709, 'skin'], [739, 'musculoskeletal'], [779, 'congenital_perinatal'], [799, 'symptoms'],
  [999, 'injury'],
];

/** ICD-9 group of one code as written in the file. */
export function icd9Group(code: string): string {
  if (code === '?') return 'missing';
  if (code[0] === 'V' || code[0] === 'E') return 'supplementary';
  const value = Number(code);
  if (Math.floor(value) === 250) return 'diabetes';
  for (const [upper, group] of ICD9_RANGES) if (value < upper + 1) return group;
  return 'injury';
}

/** Numeric features (first in `DIABETES_FEATURES`); the ones federated statistics standardise. */
export const DIABETES_NUMERIC_FEATURES: readonly string[] = Object.freeze([
  'age_years', 'time_in_hospital', 'num_lab_procedures', 'num_procedures', 'num_medications',
  'log1p_number_outpatient', 'log1p_number_emergency', 'log1p_number_inpatient', 'number_diagnoses',
]);

/**
 * Every model input feature, in order: the numeric ones, then 0/1 indicators. `change` and `diabetesMed` are
 * left out (they are functions of the medication columns the model predicts), as is `weight` (97 % missing),
 * `admission_source_id` (the site), and the ids.
 */
export const DIABETES_FEATURES: readonly string[] = Object.freeze([
  ...DIABETES_NUMERIC_FEATURES,
  'gender_male',
  ...RACES.map((r) => `race_${r}`), 'race_missing',
  ...ADMISSION_TYPES.map(([g]) => `admission_type_${g}`),
  ...DISCHARGES.map(([g]) => `discharge_${g}`),
  ...PAYERS.map((p) => `payer_${p}`), 'payer_other', 'payer_missing',
  ...SPECIALTIES.map(([g]) => `specialty_${g}`), 'specialty_other', 'specialty_missing',
  ...A1C.map((v) => `A1C_${v}`),
  ...GLUCOSE.map((v) => `max_glu_${v}`),
  ...ICD9_GROUPS.map((g) => `diag1_${g}`),
  ...ICD9_GROUPS.map((g) => `diag23_${g}`),
  // 5th digit of 250.xy: y ∈ {1, 3} type 1, y ∈ {2, 3} uncontrolled; x ≠ 0 a complication (ICD-9-CM 250).
  'diabetes_type1_coded', 'diabetes_uncontrolled_coded', 'diabetes_complication_coded',
]);

/** Cleaned first encounters of the patients, features unnormalised (numeric columns in their own units). */
export interface DiabetesEncounters {
  n: number;
  /** Row-major n × DIABETES_FEATURES.length. */
  x: Float32Array;
  /** Row-major n × 23: 1 when the medication was prescribed (Steady, Up or Down), 0 for No. */
  regimen: Float32Array;
  /** 1 when readmitted within 30 days (`<30`). */
  readmitted30: Uint8Array;
  /** 1 when readmitted at all (`<30` or `>30`). */
  readmittedAny: Uint8Array;
  /** Index into DIABETES_SITES. */
  site: Uint8Array;
}

/** What loading found and cleaned, as counts only. */
export interface DiabetesLoadReport {
  encounters: number;
  /** Later encounters of a patient already seen, dropped (only the first encounter per patient_nbr is kept). */
  duplicateEncounters: number;
  /** First encounters ending in death or hospice, dropped. */
  expiredOrHospice: number;
  /** Rows with gender 'Unknown/Invalid' or a count outside its plausible range, dropped; per column. */
  implausible: Record<string, number>;
  /** '?' cells per column among the kept rows (kept, as a 'missing' indicator). */
  missing: Record<string, number>;
  kept: number;
  /** Kept patients per site. */
  perSite: Record<DiabetesSite, number>;
}

const CSV_MEMBER = 'dataset_diabetes/diabetic_data.csv';
const ZIP_FILE = 'dataset_diabetes.zip';

/**
 * Loads Diabetes 130-US hospitals 1999–2008 (UCI id 296; Strack et al., BioMed Res. Int. 2014:781670) from
 * `dir`/dataset_diabetes.zip, read in memory. See {@link readDiabetesCsv} for the schema and the cleaning.
 * @param dir folder holding dataset_diabetes.zip (see its PROVENANCE.md)
 * @throws DataSchemaError naming the file and column, with a row count
 */
export function loadDiabetes130(dir: string): { encounters: DiabetesEncounters; report: DiabetesLoadReport } {
  const entries = readZipEntries(readFileSync(join(dir, ZIP_FILE)), ZIP_FILE);
  const csv = entries.get(CSV_MEMBER);
  if (csv === undefined) throw new DataSchemaError(`${ZIP_FILE}: no member ${CSV_MEMBER}`);
  return readDiabetesCsv(Buffer.from(csv.buffer, csv.byteOffset, csv.byteLength).toString('latin1'), 'diabetic_data.csv');
}

/**
 * Checks `text` against {@link DIABETES_SCHEMA} (header, then every cell; all violations of a column are counted
 * before refusing) and cleans it as Strack et al. 2014 did:
 * - only the first encounter of each patient_nbr (lowest encounter_id, which is also file order) is kept, so
 *   encounters are independent and a patient is in one split only;
 * - encounters discharged to death or hospice are dropped (no readmission is possible);
 * - rows with gender 'Unknown/Invalid' or an implausible count (outside the study's inclusion ranges) are dropped;
 * - '?' (missing) race, payer, specialty and diagnoses become 'missing' indicators; `weight` is not used.
 * A medication counts as prescribed when its value is Steady, Up or Down (dose kept, raised or lowered during the
 * encounter: the patient is on it); No = not prescribed.
 * @param text the CSV content
 * @param file name for error messages
 * @throws DataSchemaError naming the file, the column and how many rows, never a value
 */
export function readDiabetesCsv(text: string, file: string): { encounters: DiabetesEncounters; report: DiabetesLoadReport } {
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const header = (lines[0] ?? '').replace(/\r$/, '').split(',');
  DIABETES_SCHEMA.forEach(([name], c) => {
    if (header[c] !== name) throw new DataSchemaError(`${file}: column ${c + 1} should be '${name}' (header has ${header.length} columns)`);
  });
  if (header.length !== DIABETES_SCHEMA.length) {
    throw new DataSchemaError(`${file}: header has ${header.length} columns, schema declares ${DIABETES_SCHEMA.length}`);
  }
  const rows = lines.slice(1).map((l) => (l.charCodeAt(l.length - 1) === 13 ? l.slice(0, -1) : l).split(','));
  const badWidth = rows.filter((r) => r.length !== DIABETES_SCHEMA.length).length;
  if (badWidth > 0) throw new DataSchemaError(`${file}: ${badWidth} row(s) do not have ${DIABETES_SCHEMA.length} cells`);
  if (rows.length === 0) throw new DataSchemaError(`${file}: no rows`);
  checkCells(rows, file);

  const col = new Map(DIABETES_SCHEMA.map(([name], c) => [name, c]));
  const at = (row: string[], name: string) => row[col.get(name) as number];
  const report: DiabetesLoadReport = {
    encounters: rows.length, duplicateEncounters: 0, expiredOrHospice: 0, implausible: {}, missing: {}, kept: 0,
    perSite: { emergency: 0, referral: 0, transfer: 0, other: 0 },
  };
  const count = (bag: Record<string, number>, key: string) => (bag[key] = (bag[key] ?? 0) + 1);

  // First encounter per patient: the lowest encounter_id (Strack et al. 2014).
  const order = rows.map((_, i) => i).sort((a, b) => Number(at(rows[a], 'encounter_id')) - Number(at(rows[b], 'encounter_id')));
  const seen = new Set<string>();
  const kept: string[][] = [];
  for (const i of order) {
    const row = rows[i];
    const patient = at(row, 'patient_nbr');
    if (seen.has(patient)) {
      report.duplicateEncounters++;
      continue;
    }
    seen.add(patient);
    if (EXPIRED_OR_HOSPICE.has(at(row, 'discharge_disposition_id'))) {
      report.expiredOrHospice++;
      continue;
    }
    if (at(row, 'gender') === 'Unknown/Invalid') {
      count(report.implausible, 'gender');
      continue;
    }
    const implausible = Object.entries(PLAUSIBLE).find(([name, [lo, hi]]) => {
      const v = Number(at(row, name));
      return v < lo || v > hi;
    });
    if (implausible) {
      count(report.implausible, implausible[0]);
      continue;
    }
    kept.push(row);
  }

  const n = kept.length;
  const d = DIABETES_FEATURES.length;
  const M = DIABETES_MEDICATIONS.length;
  const enc: DiabetesEncounters = {
    n, x: new Float32Array(n * d), regimen: new Float32Array(n * M),
    readmitted30: new Uint8Array(n), readmittedAny: new Uint8Array(n), site: new Uint8Array(n),
  };
  const featureIndex = new Map(DIABETES_FEATURES.map((f, j) => [f, j]));
  kept.forEach((row, i) => {
    const out = enc.x.subarray(i * d, (i + 1) * d);
    const set = (feature: string, value = 1) => (out[featureIndex.get(feature) as number] = value);
    const ageBand = at(row, 'age');
    set('age_years', Number(ageBand.slice(1, ageBand.indexOf('-'))) + 5);
    for (const name of ['time_in_hospital', 'num_lab_procedures', 'num_procedures', 'num_medications', 'number_diagnoses']) {
      set(name, Number(at(row, name)));
    }
    // Prior-visit counts are heavy-tailed (up to 42); log1p keeps a few extreme patients from dominating the z-scores.
    for (const name of ['number_outpatient', 'number_emergency', 'number_inpatient']) set(`log1p_${name}`, Math.log1p(Number(at(row, name))));
    if (at(row, 'gender') === 'Male') set('gender_male');
    const race = at(row, 'race');
    if (race === '?') count(report.missing, 'race');
    set(race === '?' ? 'race_missing' : `race_${race}`);
    set(`admission_type_${groupOf(ADMISSION_TYPES, at(row, 'admission_type_id'))}`);
    set(`discharge_${groupOf(DISCHARGES, at(row, 'discharge_disposition_id'))}`);
    const payer = at(row, 'payer_code');
    if (payer === '?') count(report.missing, 'payer_code');
    set(payer === '?' ? 'payer_missing' : PAYERS.includes(payer) ? `payer_${payer}` : 'payer_other');
    const specialty = at(row, 'medical_specialty');
    if (specialty === '?') count(report.missing, 'medical_specialty');
    set(specialty === '?' ? 'specialty_missing' : `specialty_${groupOf(SPECIALTIES, specialty) ?? 'other'}`);
    set(`A1C_${at(row, 'A1Cresult')}`);
    set(`max_glu_${at(row, 'max_glu_serum')}`);
    ['diag_1', 'diag_2', 'diag_3'].forEach((name, k) => {
      const code = at(row, name);
      if (code === '?') count(report.missing, name);
      set(`${k === 0 ? 'diag1' : 'diag23'}_${icd9Group(code)}`);
      const m = /^250\.?(\d)?(\d)?$/.exec(code);
      if (m) {
        const fifth = Number(m[2] ?? '0');
        if (fifth === 1 || fifth === 3) set('diabetes_type1_coded');
        if (fifth === 2 || fifth === 3) set('diabetes_uncontrolled_coded');
        if (Number(m[1] ?? '0') !== 0) set('diabetes_complication_coded');
      }
    });
    DIABETES_MEDICATIONS.forEach((med, m) => (enc.regimen[i * M + m] = at(row, med) === 'No' ? 0 : 1));
    const readmitted = at(row, 'readmitted');
    enc.readmitted30[i] = readmitted === '<30' ? 1 : 0;
    enc.readmittedAny[i] = readmitted === 'NO' ? 0 : 1;
    const site = SITE_OF_SOURCE[at(row, 'admission_source_id')] ?? 'other';
    enc.site[i] = DIABETES_SITES.indexOf(site);
    report.perSite[site]++;
  });
  report.kept = n;
  return { encounters: enc, report };
}

/** The group whose codes include `value` (undefined when none does). */
function groupOf(groups: ReadonlyArray<readonly [string, readonly string[]]>, value: string): string | undefined {
  return groups.find(([, values]) => values.includes(value))?.[0];
}

/** Counts every cell that breaks its column's rule; throws for the first column with violations. */
function checkCells(rows: string[][], file: string): void {
  DIABETES_SCHEMA.forEach(([name, rule], c) => {
    let bad = 0;
    if (rule.kind === 'integer') {
      for (const row of rows) {
        const cell = row[c];
        const v = Number(cell);
        if (!/^\d+$/.test(cell) || v < rule.min || v > rule.max) bad++;
      }
    } else if (rule.kind === 'category') {
      const allowed = new Set(rule.values);
      for (const row of rows) if (!allowed.has(row[c])) bad++;
    } else {
      for (const row of rows) if (!rule.pattern.test(row[c])) bad++;
    }
    if (bad > 0) {
      const expected =
        rule.kind === 'integer' ? `integers in [${rule.min}, ${rule.max}]` : rule.kind === 'category' ? `one of ${rule.values.join('|')}` : rule.description;
      throw new DataSchemaError(`${file}: column '${name}' has ${bad} row(s) that are not ${expected}`);
    }
  });
}

/** Fractions of a site's patients in the train, validation and test splits. */
export const DIABETES_SPLIT_FRACTIONS = { train: 0.7, validation: 0.15, test: 0.15 } as const;

/**
 * The patients of one site, divided into train/validation/test (70/15/15 %) by a seeded shuffle; each split keeps
 * the loaded (encounter) order. The same seed always gives the same splits.
 * @param enc the cleaned encounters
 * @param site which site
 * @param seed seed of the shuffle; default 42
 */
export function splitDiabetesSite(
  enc: DiabetesEncounters,
  site: DiabetesSite,
  seed = 42,
): { train: DiabetesEncounters; validation: DiabetesEncounters; test: DiabetesEncounters } {
  const s = DIABETES_SITES.indexOf(site);
  const members: number[] = [];
  for (let i = 0; i < enc.n; i++) if (enc.site[i] === s) members.push(i);
  const shuffled = shuffleInPlace([...members], mulberry32(seed));
  const nTest = Math.round(DIABETES_SPLIT_FRACTIONS.test * members.length);
  const nValidation = Math.round(DIABETES_SPLIT_FRACTIONS.validation * members.length);
  const part = new Uint8Array(enc.n);
  shuffled.forEach((i, k) => (part[i] = k < nTest ? 3 : k < nTest + nValidation ? 2 : 1));
  const pick = (p: number) => subsetDiabetesEncounters(enc, members.filter((i) => part[i] === p));
  return { train: pick(1), validation: pick(2), test: pick(3) };
}

/** The encounters at `indices`, in that order, copied. */
export function subsetDiabetesEncounters(enc: DiabetesEncounters, indices: readonly number[]): DiabetesEncounters {
  const d = DIABETES_FEATURES.length;
  const M = DIABETES_MEDICATIONS.length;
  const n = indices.length;
  const out: DiabetesEncounters = {
    n, x: new Float32Array(n * d), regimen: new Float32Array(n * M),
    readmitted30: new Uint8Array(n), readmittedAny: new Uint8Array(n), site: new Uint8Array(n),
  };
  indices.forEach((src, dst) => {
    out.x.set(enc.x.subarray(src * d, (src + 1) * d), dst * d);
    out.regimen.set(enc.regimen.subarray(src * M, (src + 1) * M), dst * M);
    out.readmitted30[dst] = enc.readmitted30[src];
    out.readmittedAny[dst] = enc.readmittedAny[src];
    out.site[dst] = enc.site[src];
  });
  return out;
}
