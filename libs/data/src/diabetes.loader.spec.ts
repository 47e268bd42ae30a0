import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';

import { DataSchemaError } from './data-schema.error';
import {
  DIABETES_FEATURES,
  DIABETES_MEDICATIONS,
  DIABETES_SCHEMA,
  DIABETES_SITES,
  DiabetesEncounters,
  icd9Group,
  loadDiabetes130,
  readDiabetesCsv,
  splitDiabetesSite,
} from './diabetes.loader';
import { readZipEntries } from './zip.reader';

const DATA_DIR = resolve(__dirname, '../../../data/diabetes-130');
const HEADER = DIABETES_SCHEMA.map(([name]) => name).join(',');

/** One well-formed row; `over` replaces cells by column name. */
function row(over: Record<string, string> = {}): string {
  const base: Record<string, string> = {
    encounter_id: '10', patient_nbr: '100', race: 'Caucasian', gender: 'Female', age: '[60-70)', weight: '?',
    admission_type_id: '1', discharge_disposition_id: '1', admission_source_id: '7', time_in_hospital: '3',
    payer_code: '?', medical_specialty: 'Cardiology', num_lab_procedures: '40', num_procedures: '1',
    num_medications: '12', number_outpatient: '0', number_emergency: '3', number_inpatient: '1', diag_1: '428',
    diag_2: '250.03', diag_3: 'V45', number_diagnoses: '9', max_glu_serum: 'None', A1Cresult: '>8',
    change: 'Ch', diabetesMed: 'Yes', readmitted: '<30',
  };
  for (const m of DIABETES_MEDICATIONS) base[m] = 'No';
  Object.assign(base, { insulin: 'Up', metformin: 'Steady' }, over);
  return DIABETES_SCHEMA.map(([name]) => base[name]).join(',');
}

const feature = (enc: DiabetesEncounters, i: number, name: string) => enc.x[i * DIABETES_FEATURES.length + DIABETES_FEATURES.indexOf(name)];

describe('loadDiabetes130 (real UCI file)', () => {
  let loaded: ReturnType<typeof loadDiabetes130>;

  beforeAll(() => {
    loaded = loadDiabetes130(DATA_DIR);
  });

  it('keeps the first encounter of each of the 71,518 patients, minus 1,545 deaths/hospice and 3 invalid genders', () => {
    // Assert: counts from PROVENANCE.md (101,766 rows, 71,518 patients) and IDs_mapping.csv codes 11/13/14/19/20/21
    // tallied independently with Python's csv module.
    const { report, encounters } = loaded;
    expect(report.encounters).toBe(101766);
    expect(report.duplicateEncounters).toBe(101766 - 71518);
    expect(report.expiredOrHospice).toBe(1077 + 243 + 218 + 6 + 1);
    expect(report.implausible).toEqual({ gender: 3 });
    expect(report.kept).toBe(69970);
    expect(encounters.n).toBe(69970);
  });

  it('gives every site thousands of patients (admission_source_id groups)', () => {
    expect(loaded.report.perSite).toEqual({ emergency: 37258, referral: 22789, transfer: 4840, other: 5083 });
  });

  it('maps Steady/Up/Down to prescribed and counts readmissions as the Python tally does', () => {
    // Arrange
    const { encounters } = loaded;
    const M = DIABETES_MEDICATIONS.length;
    const prescribed = (med: string) => {
      let c = 0;
      for (let i = 0; i < encounters.n; i++) c += encounters.regimen[i * M + DIABETES_MEDICATIONS.indexOf(med)];
      return c;
    };
    const sum = (a: Uint8Array) => a.reduce((s, v) => s + v, 0);

    // Assert
    expect(prescribed('insulin')).toBe(35715);
    expect(prescribed('metformin')).toBe(14902);
    expect(prescribed('examide')).toBe(0);
    expect(sum(encounters.readmitted30)).toBe(6277);
    expect(sum(encounters.readmittedAny)).toBe(6277 + 22222);
  });

  it('splits each site 70/15/15, disjoint, reproducibly from the seed', () => {
    for (const site of DIABETES_SITES) {
      // Act
      const a = splitDiabetesSite(loaded.encounters, site, 7);
      const b = splitDiabetesSite(loaded.encounters, site, 7);
      const c = splitDiabetesSite(loaded.encounters, site, 8);

      // Assert
      const total = loaded.report.perSite[site];
      expect(a.train.n + a.validation.n + a.test.n).toBe(total);
      expect(a.test.n).toBe(Math.round(0.15 * total));
      expect(a.test.x).toEqual(b.test.x);
      expect(a.test.x).not.toEqual(c.test.x);
      expect(a.train.n).toBeGreaterThan(3000);
    }
  });
});

describe('readDiabetesCsv (hand-written rows)', () => {
  it('encodes one encounter as hand-computed features', () => {
    // Act
    const { encounters: enc } = readDiabetesCsv([HEADER, row()].join('\n'), 'test.csv');

    // Assert
    expect(enc.n).toBe(1);
    expect(feature(enc, 0, 'age_years')).toBe(65);
    expect(feature(enc, 0, 'log1p_number_emergency')).toBeCloseTo(Math.log(4), 6);
    expect(feature(enc, 0, 'diag1_circulatory')).toBe(1);
    expect(feature(enc, 0, 'diag23_diabetes')).toBe(1);
    expect(feature(enc, 0, 'diag23_supplementary')).toBe(1);
    expect(feature(enc, 0, 'diabetes_type1_coded')).toBe(1);
    expect(feature(enc, 0, 'diabetes_uncontrolled_coded')).toBe(1);
    expect(feature(enc, 0, 'diabetes_complication_coded')).toBe(0);
    expect(feature(enc, 0, 'payer_missing')).toBe(1);
    expect(feature(enc, 0, 'A1C_>8')).toBe(1);
    expect(feature(enc, 0, 'specialty_cardiology')).toBe(1);
    const ones = Array.from(enc.regimen).flatMap((v, m) => (v === 1 ? [DIABETES_MEDICATIONS[m]] : []));
    expect(ones).toEqual(['metformin', 'insulin']);
    expect([enc.readmitted30[0], enc.readmittedAny[0], enc.site[0]]).toEqual([1, 1, 0]);
  });

  it('keeps only the lowest encounter_id per patient and drops hospice discharges and impossible stays', () => {
    // Arrange
    const text = [
      HEADER,
      row({ encounter_id: '20', patient_nbr: '1', age: '[10-20)' }),
      row({ encounter_id: '5', patient_nbr: '1', age: '[30-40)' }),
      row({ encounter_id: '6', patient_nbr: '2', discharge_disposition_id: '13' }),
      row({ encounter_id: '7', patient_nbr: '3', time_in_hospital: '0' }),
      row({ encounter_id: '8', patient_nbr: '4', admission_source_id: '4' }),
    ].join('\n');

    // Act
    const { encounters: enc, report } = readDiabetesCsv(text, 'test.csv');

    // Assert
    expect(enc.n).toBe(2);
    expect(feature(enc, 0, 'age_years')).toBe(35);
    expect(Array.from(enc.site)).toEqual([0, DIABETES_SITES.indexOf('transfer')]);
    expect(report).toMatchObject({ duplicateEncounters: 1, expiredOrHospice: 1, implausible: { time_in_hospital: 1 } });
  });

  it('groups ICD-9 codes into chapters, leading zeros dropped as in the file', () => {
    expect(['8', '038', '153.2', '250', '250.83', '276', '428', '486', '574', '715', '996', 'V45', 'E909', '?', '780'].map(icd9Group)).toEqual([
      'infectious', 'infectious', 'neoplasms', 'diabetes', 'diabetes', 'endocrine_other', 'circulatory', 'respiratory',
      'digestive', 'musculoskeletal', 'injury', 'supplementary', 'supplementary', 'missing', 'symptoms',
    ]);
  });
});

describe('readDiabetesCsv (schema violations)', () => {
  let realLines: string[];

  beforeAll(() => {
    const zip = readZipEntries(readFileSync(resolve(DATA_DIR, 'dataset_diabetes.zip')), 'dataset_diabetes.zip');
    const csv = zip.get('dataset_diabetes/diabetic_data.csv') as Uint8Array;
    realLines = Buffer.from(csv).toString('latin1').split('\n').slice(0, 3001);
  });

  /** The first 3,000 real rows with `column` set to `value` in `count` rows. */
  function corrupt(column: string, value: string, count: number): string {
    const c = DIABETES_SCHEMA.findIndex(([name]) => name === column);
    return realLines
      .map((line, i) => {
        if (i === 0 || i > count) return line;
        const cells = line.replace(/\r$/, '').split(',');
        cells[c] = value;
        return cells.join(',');
      })
      .join('\n');
  }

  it.each([
    ['insulin', 'Sometimes', 17],
    ['A1Cresult', '9.5', 4],
    ['num_medications', '-3', 2],
    ['diag_1', 'ABC', 1],
    ['readmitted', 'YES', 250],
  ])('refuses %s with a bad value, naming the column and the row count but not the value', (column, value, count) => {
    // Act
    const act = () => readDiabetesCsv(corrupt(column, value, count), 'diabetic_data.csv');

    // Assert
    expect(act).toThrow(DataSchemaError);
    expect(act).toThrow(`column '${column}' has ${count} row(s)`);
    expect(act).not.toThrow(value);
  });

  it('refuses a file whose header lacks a declared column', () => {
    // Arrange
    const text = realLines.map((l, i) => (i === 0 ? l.replace('A1Cresult', 'HbA1c') : l)).join('\n');

    // Act / Assert
    expect(() => readDiabetesCsv(text, 'diabetic_data.csv')).toThrow(/column 24 should be 'A1Cresult'/);
  });

  it('accepts the unmodified rows', () => {
    expect(readDiabetesCsv(realLines.join('\n'), 'diabetic_data.csv').report.encounters).toBe(3000);
  });
});
