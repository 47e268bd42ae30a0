import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

import { DataSchemaError } from './data-schema.error';
import { holdOut, icuSite, IcuSequences, loadPhysionet2012, PHYSIONET_FEATURES, readPhysionet2012 } from './physionet.loader';

const DATA_DIR = resolve(__dirname, '../../../data/physionet-2012');
const FILES = ['set-a.tar.gz', 'Outcomes-a.txt', 'records_sha256.txt'];
const F = PHYSIONET_FEATURES.length;

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);
const at = (s: IcuSequences, patient: number, step: number, feature: string) =>
  patient * s.steps * F + step * F + PHYSIONET_FEATURES.indexOf(feature);

describe('loadPhysionet2012 (real set A)', () => {
  const { sequences: seqs, report } = readPhysionet2012(DATA_DIR);

  it('has 4,000 records, 554 deaths and the 37 challenge variables', () => {
    expect(seqs.n).toBe(4000);
    expect(sum(seqs.y)).toBe(554);
    expect(seqs.features).toHaveLength(37);
    expect([seqs.values.length, seqs.mask.length, seqs.delta.length]).toEqual([4000 * 48 * 37, 4000 * 48 * 37, 4000 * 48 * 37]);
    expect(report.verifiedFiles).toBe(4000);
  });

  it('counts every observation row: 1,757,980 data rows minus 24,000 descriptor rows', () => {
    // An independent count with grep over the unpacked files gives 1,757,980 rows after the headers, 24,000 of
    // them the six 00:00 descriptors (PROVENANCE.md's 1,753,980 is 4,000 short of this).
    expect(report.observations).toBe(1_733_980);
    expect(report.afterWindow).toBe(0);
  });

  it.each([
    [1, 577, 81],
    [2, 874, 43],
    [3, 1481, 275],
    [4, 1068, 155],
  ] as const)('ICU type %i has %i patients and %i deaths (PROVENANCE.md)', (type, n, deaths) => {
    const site = icuSite(seqs, type);
    expect(site.n).toBe(n);
    expect(sum(site.y)).toBe(deaths);
    expect(Array.from(site.icuType).every((t) => t === type)).toBe(true);
  });

  it('reproduces record 132539 hour by hour, read by hand from the file', () => {
    // 132539.txt: Age 54, Gender 0, Height −1, Weight −1; 00:07 and 00:37 HR 73/77, NIMAP 92.33/91,
    // Temp 35.1/35.6, Urine 900/60, GCS 15 at 00:07 and 03:37.
    const p = 0;
    expect(seqs.recordIds[p]).toBe(132539);
    expect(seqs.icuType[p]).toBe(4);
    expect(Array.from(seqs.statics.subarray(0, 7))).toEqual([54, 0, 0, 0, 1, 0, 0]);
    expect(seqs.values[at(seqs, p, 0, 'HR')]).toBeCloseTo(75, 5);
    expect(seqs.values[at(seqs, p, 0, 'NIMAP')]).toBeCloseTo(91.665, 4);
    expect(seqs.values[at(seqs, p, 0, 'Temp')]).toBeCloseTo(35.35, 4);
    expect(seqs.values[at(seqs, p, 0, 'Urine')]).toBe(960);
    expect([0, 1, 2, 3, 4].map((t) => seqs.mask[at(seqs, p, t, 'GCS')])).toEqual([1, 0, 0, 1, 0]);
    expect([0, 1, 2, 3, 4].map((t) => seqs.delta[at(seqs, p, t, 'GCS')])).toEqual([0, 1, 2, 3, 1]);
    expect(seqs.mask[at(seqs, p, 0, 'Weight')]).toBe(0);
  });

  it('keeps records with descriptors only, with an empty mask', () => {
    const p = Array.from(seqs.recordIds).indexOf(140501);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(sum(seqs.mask.subarray(p * 48 * F, (p + 1) * 48 * F))).toBe(0);
  });

  it('has masks consistent with values and deltas (GRU-D eq. 2), and no NaN', () => {
    let unmaskedNonZero = 0;
    let nonFinite = 0;
    let wrongDelta = 0;
    for (let i = 0; i < seqs.values.length; i++) {
      if (!Number.isFinite(seqs.values[i]) || !Number.isFinite(seqs.delta[i])) nonFinite++;
      if (seqs.mask[i] === 0 && seqs.values[i] !== 0) unmaskedNonZero++;
      const step = Math.floor(i / F) % 48;
      const expected = step === 0 ? 0 : seqs.mask[i - F] === 1 ? 1 : seqs.delta[i - F] + 1;
      if (seqs.delta[i] !== expected) wrongDelta++;
    }
    expect([unmaskedNonZero, nonFinite, wrongDelta]).toEqual([0, 0, 0]);
    expect(seqs.mask.every((m) => m === 0 || m === 1)).toBe(true);
  });

  it('removes the impossible values it documents, and counts them', () => {
    // awk over the files: Temp has 24 negative and 39 zero readings; HR 11 zeros; pH values up to 735.
    expect(report.implausible['Temp']).toBeGreaterThanOrEqual(24 + 39);
    expect(report.implausible['HR']).toBe(11);
    expect(report.implausible['pH']).toBeGreaterThan(0);
    expect(report.missingMarkers['Height']).toBe(1894);
    const ph = PHYSIONET_FEATURES.indexOf('pH');
    const temp = PHYSIONET_FEATURES.indexOf('Temp');
    let outOfRange = 0;
    for (let i = 0; i < seqs.values.length; i += F) {
      if (seqs.mask[i + ph] && (seqs.values[i + ph] < 6.5 || seqs.values[i + ph] > 8)) outOfRange++;
      if (seqs.mask[i + temp] && seqs.values[i + temp] < 25) outOfRange++;
    }
    expect(outOfRange).toBe(0);
  });

  it('holdOut stratifies by outcome and partitions the patients', () => {
    // Arrange: ICU 3 has 1,206 survivors and 275 deaths → round(0.2×1206)=241 and round(0.2×275)=55 held out.
    const site = icuSite(seqs, 3);

    // Act
    const { train, test } = holdOut(site, 0.2, 11);

    // Assert
    expect([test.n, sum(test.y)]).toEqual([296, 55]);
    expect([train.n, sum(train.y)]).toEqual([1185, 220]);
    const ids = [...Array.from(train.recordIds), ...Array.from(test.recordIds)].sort((a, b) => a - b);
    expect(ids).toEqual(Array.from(site.recordIds));
    expect(Array.from(holdOut(site, 0.2, 11).test.recordIds)).toEqual(Array.from(test.recordIds));
    expect(Array.from(holdOut(site, 0.2, 12).test.recordIds)).not.toEqual(Array.from(test.recordIds));
  });

  it('holdOut copies each patient whole', () => {
    const { test } = holdOut(seqs, 0.1, 3);
    const src = Array.from(seqs.recordIds).indexOf(test.recordIds[0]);
    const cell = 48 * F;
    expect(Array.from(test.values.subarray(0, cell))).toEqual(Array.from(seqs.values.subarray(src * cell, (src + 1) * cell)));
    expect(Array.from(test.statics.subarray(0, 7))).toEqual(Array.from(seqs.statics.subarray(src * 7, src * 7 + 7)));
    expect(() => holdOut(seqs, 1, 3)).toThrow(RangeError);
  });
});

describe('loadPhysionet2012 on damaged files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'physionet-'));
    for (const f of FILES) copyFileSync(join(DATA_DIR, f), join(dir, f));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a truncated tar.gz → DataSchemaError naming the file', () => {
    // Arrange
    const path = join(dir, 'set-a.tar.gz');
    writeFileSync(path, readFileSync(path).subarray(0, 3_000_000));

    // Act & Assert
    expect(() => loadPhysionet2012(dir)).toThrow(DataSchemaError);
    expect(() => loadPhysionet2012(dir)).toThrow(/^set-a\.tar\.gz: gzip stream is damaged or truncated/);
  });

  it('a tar cut short inside a valid gzip → DataSchemaError', () => {
    const path = join(dir, 'set-a.tar.gz');
    const tar = gunzipSync(readFileSync(path));
    writeFileSync(path, gzipSync(tar.subarray(0, Math.floor(tar.length / 2)), { level: 1 }));
    expect(() => loadPhysionet2012(dir)).toThrow(/^set-a\.tar\.gz: tar (archive|member)/);
  });

  it('a record changed after packing fails records_sha256.txt', () => {
    // Arrange: change one data byte of the first record (header block 0 is the directory, block 1 the file header).
    const path = join(dir, 'set-a.tar.gz');
    const tar = gunzipSync(readFileSync(path));
    const firstData = 3 * 512 + 40;
    tar[firstData] = tar[firstData] === 0x31 ? 0x32 : 0x31;
    writeFileSync(path, gzipSync(tar, { level: 1 }));

    // Act & Assert
    expect(() => loadPhysionet2012(dir)).toThrow(/^set-a\.tar\.gz: 1 record file\(s\) do not match records_sha256\.txt/);
  });

  it('an outcomes file with a bad death flag names the column and the count', () => {
    const path = join(dir, 'Outcomes-a.txt');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/,0\n/, ',7\n'));
    expect(() => loadPhysionet2012(dir)).toThrow(/^Outcomes-a\.txt: column In-hospital_death has 1 row\(s\)/);
  });
});
