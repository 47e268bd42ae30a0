import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

import { DataSchemaError } from './data-schema.error';
import {
  featurizeSmiles,
  FingerprintCacheError,
  fingerprintCachePath,
  loadRdkit,
  loadTox21,
  parseTox21Csv,
  partitionTox21,
  RdkitLike,
  readFingerprintCache,
  splitTox21Rows,
  TOX21_ASSAYS,
  TOX21_FILE,
  tox21Examples,
  writeFingerprintCache,
} from './tox21.loader';

const DATA_DIR = resolve(__dirname, '../../../data/tox21');
const csvText = () => gunzipSync(readFileSync(join(DATA_DIR, TOX21_FILE))).toString('utf8');
const gz = (text: string) => gzipSync(Buffer.from(text, 'utf8'));

describe('parseTox21Csv (real file)', () => {
  const table = parseTox21Csv(readFileSync(join(DATA_DIR, TOX21_FILE)));

  it('reads 8,014 rows and the labelled/positive counts per assay of PROVENANCE.md', () => {
    // Reference: PROVENANCE.md, counted independently of this loader.
    const expected: Record<string, [number, number]> = {
      'NR-AR': [7439, 310], 'NR-AR-LBD': [6902, 238], 'NR-AhR': [6691, 785], 'NR-Aromatase': [5940, 307],
      'NR-ER': [6316, 798], 'NR-ER-LBD': [7112, 356], 'NR-PPAR-gamma': [6583, 189], 'SR-ARE': [5935, 961],
      'SR-ATAD5': [7232, 267], 'SR-HSE': [6594, 379], 'SR-MMP': [5920, 936], 'SR-p53': [6909, 431],
    };
    expect(table.n).toBe(8014);
    const counts = Object.fromEntries(
      TOX21_ASSAYS.map((a, k) => {
        let labelled = 0;
        let positive = 0;
        for (let r = 0; r < table.n; r++) {
          const v = table.labels[r * 12 + k];
          if (!Number.isNaN(v)) labelled++;
          if (v === 1) positive++;
        }
        return [a, [labelled, positive]];
      }),
    );
    expect(counts).toEqual(expected);
  });

  it('keeps the first row as in the file (empty cells become NaN)', () => {
    // File row 1: 0,0,1,,,0,0,1,0,0,0,0,TOX3021,CCOc1ccc2nc(S(N)(=O)=O)sc2c1
    expect(Array.from(table.labels.subarray(0, 12))).toEqual([0, 0, 1, NaN, NaN, 0, 0, 1, 0, 0, 0, 0]);
    expect([table.molIds[0], table.smiles[0]]).toEqual(['TOX3021', 'CCOc1ccc2nc(S(N)(=O)=O)sc2c1']);
  });
});

describe('parseTox21Csv refuses files that break the schema', () => {
  const lines = csvText().trimEnd().split('\n');

  it('names a missing column', () => {
    const text = [lines[0].replace('SR-p53', 'SR-p54'), ...lines.slice(1)].join('\n');
    expect(() => parseTox21Csv(gz(text))).toThrow(new DataSchemaError(`${TOX21_FILE}: missing column(s) SR-p53`));
  });

  it('names the column and counts the rows with a label other than 0, 1 or empty', () => {
    // Arrange: three rows get NR-AR = 2 (the first column).
    const bad = lines.map((l, i) => (i >= 1 && i <= 3 ? `2${l.slice(l.indexOf(','))}` : l)).join('\n');

    // Act / Assert
    expect(() => parseTox21Csv(gz(bad))).toThrow(new DataSchemaError(`${TOX21_FILE}: column NR-AR: rows not 0, 1 or empty: 3 of 8014`));
  });

  it('counts rows with a wrong number of fields and rows with an empty smiles', () => {
    const short = [...lines.slice(0, 3), lines[3] + ',extra', ...lines.slice(4)].join('\n');
    expect(() => parseTox21Csv(gz(short))).toThrow(/1 of 8014 rows do not have 14 fields/);
    const noSmiles = lines.map((l, i) => (i === 5 || i === 6 ? l.slice(0, l.lastIndexOf(',') + 1) : l)).join('\n');
    expect(() => parseTox21Csv(gz(noSmiles))).toThrow(/column smiles: empty rows: 2 of 8014/);
  });

  it('refuses repeated mol_ids and a file that is not gzip', () => {
    const dup = [...lines, lines[1]].join('\n');
    expect(() => parseTox21Csv(gz(dup))).toThrow(/column mol_id: rows repeating an earlier id: 1 of 8015/);
    expect(() => parseTox21Csv(Buffer.from('NR-AR\n1\n'))).toThrow(DataSchemaError);
  });
});

describe('featurizeSmiles (RDKit MinimalLib)', () => {
  let rdkit: RdkitLike;
  beforeAll(async () => {
    rdkit = await loadRdkit();
  }, 30_000);

  it('unpacks bits in RDKit order: the same bits as get_morgan_fp’s bit string', () => {
    // Arrange
    const smiles = ['CCOc1ccc2nc(S(N)(=O)=O)sc2c1', 'CC(C)Cc1ccc(cc1)C(C)C(=O)O', 'CCO'];
    const data = { table: { n: 3, smiles, molIds: ['a', 'b', 'c'], labels: new Float32Array(36), sha256: '' }, features: featurizeSmiles(rdkit, smiles, { radius: 2, nBits: 1024 }), report: { rows: 3, parseFailures: 0, scaffolds: 0, fromCache: false } };

    // Act
    const set = tox21Examples(data, [0, 1, 2]);

    // Assert: RDKit's own '0101…' string, an independent path through the library.
    smiles.forEach((s, i) => {
      const mol = rdkit.get_mol(s) as unknown as { get_morgan_fp(d: string): string; delete(): void };
      const bits = mol.get_morgan_fp(JSON.stringify({ radius: 2, nBits: 1024 }));
      mol.delete();
      expect(Array.from(set.inputs.x.data.subarray(i * 1024, (i + 1) * 1024)).join('')).toBe(bits);
    });
  });

  it('gives Bemis–Murcko frameworks: side chains off, linkers and ring C=O kept, acyclic → empty', () => {
    const smiles = [
      'CC(C)Cc1ccc(cc1)C(C)C(=O)O', // ibuprofen
      'CN(C)CCOC(c1ccccc1)c1ccccc1', // diphenhydramine
      'CCCCC1CCCCC1=O', // 2-butylcyclohexanone
      'CCO',
      'O=CO[AlH3](OC=O)OC=O', // one of the 8 failures of this file
    ];
    const f = featurizeSmiles(rdkit, smiles, { radius: 2, nBits: 64 });
    expect(f.scaffolds).toEqual(['c1ccccc1', 'c1ccc(Cc2ccccc2)cc1', 'O=C1CCCCC1', '', '']);
    expect(Array.from(f.parsed)).toEqual([1, 1, 1, 1, 0]);
    expect(Array.from(f.fingerprints.subarray(4 * 8, 5 * 8))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('loadTox21 (real file, fingerprint cache)', () => {
  const data = loadTox21(DATA_DIR);

  it('fingerprints 8,006 of 8,014 molecules and counts the 8 failures (STACK.md)', () => {
    expect(data.report.rows).toBe(8014);
    expect(data.report.parseFailures).toBe(8);
    expect(data.features.fingerprints.length).toBe(8014 * 128);
    // Every parsed molecule sets at least one bit; failures set none.
    for (let i = 0; i < data.table.n; i++) {
      const any = data.features.fingerprints.subarray(i * 128, (i + 1) * 128).some((b) => b !== 0);
      expect(any).toBe(data.features.parsed[i] === 1);
    }
  });

  describe('cache verification', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'tox21-'));
      copyFileSync(join(DATA_DIR, TOX21_FILE), join(dir, TOX21_FILE));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('without a cache, fingerprints in a child process (same bits as the cached ones) and writes a cache it then uses', () => {
      // Act
      const fresh = loadTox21(dir);
      const again = loadTox21(dir);

      // Assert
      expect(fresh.report.fromCache).toBe(false);
      expect(again.report.fromCache).toBe(true);
      expect(Buffer.compare(Buffer.from(fresh.features.fingerprints), Buffer.from(data.features.fingerprints))).toBe(0);
      expect(fresh.features.scaffolds).toEqual(data.features.scaffolds);
    }, 120_000);

    it('round-trips a written cache', () => {
      const path = fingerprintCachePath(dir, data.features.settings);
      writeFingerprintCache(path, data.table, data.features);
      const back = readFingerprintCache(path, data.table, data.features.settings);
      expect(Buffer.compare(Buffer.from(back.fingerprints), Buffer.from(data.features.fingerprints))).toBe(0);
      expect(back.scaffolds).toEqual(data.features.scaffolds);
    });

    it('refuses a cache of another CSV, other settings or a damaged payload', () => {
      const path = fingerprintCachePath(dir, data.features.settings);
      writeFingerprintCache(path, data.table, data.features);
      expect(() => readFingerprintCache(path, { ...data.table, sha256: '0'.repeat(64) }, data.features.settings)).toThrow(
        new FingerprintCacheError(`${path}: CSV SHA-256 does not match`),
      );
      expect(() => readFingerprintCache(path, data.table, { radius: 3, nBits: 1024 })).toThrow(/fingerprint settings does not match/);
      const file = JSON.parse(readFileSync(path, 'utf8')) as { scaffolds: string[] };
      file.scaffolds[0] = 'C1CC1';
      writeFileSync(path, JSON.stringify(file));
      expect(() => readFingerprintCache(path, data.table, data.features.settings)).toThrow(/payload SHA-256 does not match/);
    });
  });
});

describe('partitionTox21 and splitTox21Rows', () => {
  const data = loadTox21(DATA_DIR);

  it.each(['scaffold', 'random'] as const)('%s: every parsed molecule goes to exactly one site, near-equal sizes', (mode) => {
    const sites = partitionTox21(data, mode);
    const all = sites.flat().sort((a, b) => a - b);
    expect(all.length).toBe(8006);
    expect(new Set(all).size).toBe(8006);
    expect(all.every((r) => data.features.parsed[r] === 1)).toBe(true);
    const sizes = sites.map((s) => s.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(mode === 'random' ? 1 : 100);
  });

  it('scaffold: no scaffold is shared by two sites; the same partition every time', () => {
    const sites = partitionTox21(data, 'scaffold');
    const owner = new Map<string, number>();
    sites.forEach((rows, s) =>
      rows.forEach((r) => {
        const key = data.features.scaffolds[r];
        expect(owner.get(key) ?? s).toBe(s);
        owner.set(key, s);
      }),
    );
    expect(partitionTox21(data, 'scaffold')).toEqual(sites);
  });

  it('splits 80/10/10 without overlap, duplicates of a SMILES in one split, reproducibly from the seed', () => {
    const rows = partitionTox21(data, 'scaffold')[0];
    const s = splitTox21Rows(data, rows, 42);
    expect([s.train.length, s.validation.length, s.test.length].map((v) => Math.round((10 * v) / rows.length))).toEqual([8, 1, 1]);
    expect(new Set([...s.train, ...s.validation, ...s.test]).size).toBe(rows.length);
    const splitOf = new Map<string, string>();
    for (const [name, part] of Object.entries(s)) {
      for (const r of part) {
        expect(splitOf.get(data.table.smiles[r]) ?? name).toBe(name);
        splitOf.set(data.table.smiles[r], name);
      }
    }
    expect(splitTox21Rows(data, rows, 42)).toEqual(s);
    expect(splitTox21Rows(data, rows, 43).test).not.toEqual(s.test);
  });
});
