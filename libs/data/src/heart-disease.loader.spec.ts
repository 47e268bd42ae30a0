import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { DataSchemaError } from './data-schema.error';
import { HEART_DISEASE_CENTERS, HEART_DISEASE_FEATURES, loadHeartDiseaseCenter } from './heart-disease.loader';

const DATA_DIR = resolve(__dirname, '../../../data/fed-heart-disease');

const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

describe('loadHeartDiseaseCenter (real FLamby files)', () => {
  // FLamby's published sizes (PROVENANCE.md): kept rows, train/test and positives per split.
  it.each([
    ['cleveland', 199, 104, 91, 48],
    ['hungarian', 172, 89, 65, 33],
    ['switzerland', 30, 16, 30, 15],
    ['va', 85, 45, 66, 35],
  ] as const)('%s has %i/%i rows with %i/%i positives', (center, nTrain, nTest, posTrain, posTest) => {
    // Act
    const data = loadHeartDiseaseCenter(DATA_DIR, center);

    // Assert
    expect(data.center).toBe(center);
    expect([data.train.n, data.test.n]).toEqual([nTrain, nTest]);
    expect([sum(data.train.y), sum(data.test.y)]).toEqual([posTrain, posTest]);
    expect(data.train.dim).toBe(13);
    expect(data.train.x.length).toBe(nTrain * 13);
  });

  it('keeps 303/261/46/130 rows, 740 in all', () => {
    const kept = HEART_DISEASE_CENTERS.map((c) => {
      const d = loadHeartDiseaseCenter(DATA_DIR, c);
      return d.train.n + d.test.n;
    });
    expect(kept).toEqual([303, 261, 46, 130]);
  });

  it('reproduces the Python reference feature matrix row by row', () => {
    // Arrange: flamby_features_unnormalized_seed43.csv was made by pandas/sklearn, independently of this loader.
    const [header, ...rows] = readFileSync(join(DATA_DIR, 'flamby_features_unnormalized_seed43.csv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const col = (name: string) => header.indexOf(name);
    const featureCols = HEART_DISEASE_FEATURES.map(col);
    expect(featureCols.every((c) => c >= 0)).toBe(true);
    let compared = 0;

    for (const [centerId, center] of HEART_DISEASE_CENTERS.entries()) {
      // Act
      const data = loadHeartDiseaseCenter(DATA_DIR, center);

      for (const set of ['train', 'test'] as const) {
        const expected = rows.filter((r) => Number(r[col('center_id')]) === centerId && r[col('set')] === set);
        const split = data[set];
        // Assert
        expect(split.n).toBe(expected.length);
        expected.forEach((r, i) => {
          const want = featureCols.map((c) => Math.fround(Number(r[c])));
          expect(Array.from(split.x.subarray(i * 13, (i + 1) * 13))).toEqual(want);
          expect(split.y[i]).toBe(Number(r[col('label')]));
          compared++;
        });
      }
    }
    expect(compared).toBe(740);
  });
});

describe('loadHeartDiseaseCenter (corrupt copies)', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-data-'));
    for (const f of ['flamby_split_seed43.csv', ...HEART_DISEASE_CENTERS.map((c) => `processed.${c}.data`)]) {
      copyFileSync(join(DATA_DIR, f), join(dir, f));
    }
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const rewrite = (center: string, edit: (rows: string[][]) => void) => {
    const path = join(dir, `processed.${center}.data`);
    const rows = readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split(','));
    edit(rows);
    writeFileSync(path, rows.map((r) => r.join(',')).join('\n') + '\n');
  };

  const caught = (fn: () => unknown): Error => {
    try {
      fn();
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected a throw');
  };

  it('rejects rows with a wrong column count and says how many', () => {
    // Arrange: drop the last cell of three rows
    rewrite('va', (rows) => [3, 10, 50].forEach((i) => rows[i].pop()));

    // Act
    const err = caught(() => loadHeartDiseaseCenter(dir, 'va'));

    // Assert
    expect(err).toBeInstanceOf(DataSchemaError);
    expect(err.message).toBe('processed.va.data: 3 row(s) do not have 14 columns');
  });

  it('rejects text in a numeric column, naming the column and count but not the value', () => {
    // Arrange: two cholesterol cells replaced by a distinctive string
    rewrite('hungarian', (rows) => {
      rows[5][4] = 'SECRET-VALUE';
      rows[7][4] = 'SECRET-VALUE';
    });

    // Act
    const err = caught(() => loadHeartDiseaseCenter(dir, 'hungarian'));

    // Assert
    expect(err).toBeInstanceOf(DataSchemaError);
    expect(err.message).toContain('column 4 (chol)');
    expect(err.message).toContain('2 row(s)');
    expect(err.message).toContain('processed.hungarian.data');
    expect(err.message).not.toContain('SECRET');
    expect(err.message).not.toMatch(/row 5|line 6|row 7|line 8/);
  });

  it('rejects a label outside 0..4', () => {
    rewrite('cleveland', (rows) => (rows[0][13] = '7'));
    const err = caught(() => loadHeartDiseaseCenter(dir, 'cleveland'));
    expect(err).toBeInstanceOf(DataSchemaError);
    expect(err.message).toContain('column 13 (num) has 1 row(s) outside the allowed levels');
    expect(err.message).not.toContain('7 ');
  });

  it('rejects a raw file whose complete rows no longer match the split file', () => {
    // Arrange: a new '?' in a kept column drops one more row than FLamby's split expects
    rewrite('hungarian', (rows) => (rows[0][0] = '?'));

    // Act
    const err = caught(() => loadHeartDiseaseCenter(dir, 'hungarian'));

    // Assert
    expect(err).toBeInstanceOf(DataSchemaError);
    expect(err.message).toMatch(/260 complete row\(s\) but flamby_split_seed43.csv lists 261/);
  });
});
