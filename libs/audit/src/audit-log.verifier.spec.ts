import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBase64 } from '@medfed/crypto';
import { testIdentity } from '@medfed/crypto/testing';
import { AUDIT_GENESIS_HASH, auditEntryLine, sealAuditEntry, type AuditEntry } from './audit-entry.model';
import { exportAuditLog, readAuditLog, verifyAuditLog } from './audit-log.verifier';
import { AuditLog } from './audit.log';
import { writeRealisticAuditLog } from './testing';

const honest = testIdentity('audit/st-gallen');
const mallory = testIdentity('audit/mallory');
const honestKey = toBase64(honest.signing.publicKey);
const malloryKey = toBase64(mallory.signing.publicKey);

/** Splits a file into its lines, each with its newline, so byte offsets map back to entries. */
function linesOf(path: string): Buffer[] {
  const bytes = readFileSync(path);
  const lines: Buffer[] = [];
  let start = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start);
    lines.push(bytes.subarray(start, end + 1));
    start = end + 1;
  }
  return lines;
}

function lineOf(entry: AuditEntry): string {
  return auditEntryLine(entry) + '\n';
}

/** Replaces entry `seq`'s content and re-hashes and re-signs it with `identity` (what a key holder could do). */
function resign(entry: AuditEntry, identity = honest, changes: Partial<AuditEntry> = {}): AuditEntry {
  const next = { ...entry, ...changes };
  const body = { format: next.format, seq: next.seq, at: next.at, event: next.event, details: next.details, prevHash: next.prevHash };
  return sealAuditEntry({ ...body, signer: toBase64(identity.signing.publicKey) }, identity.signing);
}

/** A deterministic PRNG (mulberry32) so the sampled positions are the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('verifyAuditLog', () => {
  let dir: string;
  let path: string;
  let entries: AuditEntry[];
  let original: Buffer[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-audit-verify-'));
    path = join(dir, 'audit.jsonl');
    entries = writeRealisticAuditLog(path, honest);
    original = linesOf(path);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (lines: (Buffer | string)[]) => writeFileSync(path, Buffer.concat(lines.map((line) => (typeof line === 'string' ? Buffer.from(line) : line))));

  it('accepts the untouched log, reporting its size, key and last hash', () => {
    // Act
    const result = verifyAuditLog(path, { expectedSigner: honestKey, lastReceipt: { seq: 19, hash: entries[19].hash } });
    // Assert
    expect(result).toEqual({ ok: true, entries: 20, firstProblem: null, signer: honestKey, lastHash: entries[19].hash });
    expect(entries[0].prevHash).toBe(AUDIT_GENESIS_HASH);
    expect(entries[5].prevHash).toBe(entries[4].hash);
  });

  it('accepts an empty log', () => {
    write([]);
    expect(verifyAuditLog(path)).toEqual({ ok: true, entries: 0, firstProblem: null, signer: null, lastHash: null });
  });

  it('names the changed entry for every single-byte change (XOR 1) of the first, a middle and the last entry', () => {
    const seen = new Set<string>();
    for (const seq of [0, 9, 19]) {
      for (let offset = 0; offset < original[seq].length; offset += 1) {
        // Arrange
        const tampered = Buffer.from(original[seq]);
        tampered[offset] ^= 0x01;
        write([...original.slice(0, seq), tampered, ...original.slice(seq + 1)]);
        // Act
        const result = verifyAuditLog(path);
        // Assert
        if (result.ok || result.firstProblem?.seq !== seq) {
          throw new Error(`byte ${offset} of entry ${seq} changed: got ${JSON.stringify(result.firstProblem)}`);
        }
        expect(result.entries).toBe(seq);
        seen.add(result.firstProblem.reason);
      }
    }
    // A changed seq/content gives `edited`, broken JSON `malformed`, a changed sig `bad-signature`, the last newline `truncated`.
    expect([...seen].sort()).toEqual(['bad-signature', 'edited', 'malformed', 'truncated']);
  }, 60_000);

  it('names the changed entry for 400 random byte replacements across all entries', () => {
    const random = prng(20250301);
    const total = original.reduce((sum, line) => sum + line.length, 0);
    for (let trial = 0; trial < 400; trial += 1) {
      // Arrange: a random position in the file and a random different byte value
      let position = Math.floor(random() * total);
      let seq = 0;
      while (position >= original[seq].length) position -= original[seq++].length;
      const tampered = Buffer.from(original[seq]);
      tampered[position] = (tampered[position] + 1 + Math.floor(random() * 255)) & 0xff;
      write([...original.slice(0, seq), tampered, ...original.slice(seq + 1)]);
      // Act
      const result = verifyAuditLog(path);
      // Assert
      if (result.ok || result.firstProblem?.seq !== seq) {
        throw new Error(`byte ${position} of entry ${seq} replaced: got ${JSON.stringify(result.firstProblem)}`);
      }
    }
  }, 60_000);

  it('reports a deleted entry as deleted, naming the missing seq', () => {
    write([...original.slice(0, 7), ...original.slice(8)]);
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 7, line: 8, reason: 'deleted' });
  });

  it('reports the first entry deleted, and two deleted in a row', () => {
    write(original.slice(1));
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 0, line: 1, reason: 'deleted' });
    write([...original.slice(0, 3), ...original.slice(5)]);
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 3, line: 4, reason: 'deleted', message: expect.stringContaining('3–4') });
  });

  it('reports two swapped entries as reordered, naming the earlier seq', () => {
    write([...original.slice(0, 4), original[5], original[4], ...original.slice(6)]);
    const result = verifyAuditLog(path);
    expect(result.firstProblem).toMatchObject({ seq: 4, line: 5, reason: 'reordered' });
    expect(result.entries).toBe(4);
  });

  it('reports the last entry moved to the front as reordered', () => {
    write([original[19], ...original.slice(0, 19)]);
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 0, line: 1, reason: 'reordered' });
  });

  it('reports a cut tail as truncated when a receipt vouched for a later entry, and not otherwise', () => {
    // Arrange
    write(original.slice(0, 18));
    // Act / Assert
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, entries: 18 });
    expect(verifyAuditLog(path, { lastReceipt: { seq: 19, hash: entries[19].hash } })).toMatchObject({
      ok: false,
      entries: 18,
      firstProblem: { seq: 18, line: 19, reason: 'truncated' },
    });
    expect(verifyAuditLog(path, { lastReceipt: { seq: 17, hash: entries[17].hash } }).ok).toBe(true);
  });

  it('reports a tail cut and written again as truncated at the vouched-for seq', () => {
    // Arrange: keep 15 entries, then the key holder appends 5 new ones (a valid chain, but a different history)
    write(original.slice(0, 15));
    const log = AuditLog.open(path, honest);
    for (let i = 0; i < 5; i += 1) log.append('message.sent', { kind: 'hello', bytes: 1 });
    log.close();
    // Act
    const result = verifyAuditLog(path, { lastReceipt: { seq: 19, hash: entries[19].hash } });
    // Assert
    expect(result.entries).toBe(20);
    expect(result.firstProblem).toMatchObject({ seq: 19, reason: 'truncated' });
  });

  it('reports an entry re-signed with another key as wrong-key', () => {
    write([...original.slice(0, 3), lineOf(resign(entries[3], mallory, { details: { kind: 'hello', bytes: 1 } })), ...original.slice(4)]);
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 3, line: 4, reason: 'wrong-key' });
  });

  it('reports wrong-key at entry 0 when the pinned key did not sign the log, even a fully re-forged one', () => {
    expect(verifyAuditLog(path, { expectedSigner: malloryKey }).firstProblem).toMatchObject({ seq: 0, reason: 'wrong-key' });
    // Arrange: mallory rebuilds the whole chain with her key
    let prevHash = AUDIT_GENESIS_HASH;
    const forged = entries.map((entry) => {
      const next = resign(entry, mallory, { prevHash });
      prevHash = next.hash;
      return lineOf(next);
    });
    write(forged);
    // Act / Assert: consistent on its own, so only pinning the key exposes it
    expect(verifyAuditLog(path).ok).toBe(true);
    expect(verifyAuditLog(path, { expectedSigner: honestKey }).firstProblem).toMatchObject({ seq: 0, reason: 'wrong-key' });
  });

  it("reports a signature made over another entry's hash as bad-signature", () => {
    write([...original.slice(0, 6), lineOf({ ...entries[6], sig: entries[7].sig }), ...original.slice(7)]);
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 6, line: 7, reason: 'bad-signature' });
  });

  it('reports an entry that is validly signed but not chained to its predecessor as chain-broken', () => {
    // Arrange: the key holder rewrites entry 10 in place, keeping its seq and its prevHash field different
    const rewritten = resign(entries[10], honest, { prevHash: 'f'.repeat(64) });
    write([...original.slice(0, 10), lineOf(rewritten), ...original.slice(11)]);
    // Act / Assert
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 10, line: 11, reason: 'chain-broken' });
  });

  it('reports an entry rewritten by the key holder as chain-broken at the next entry', () => {
    write([...original.slice(0, 10), lineOf(resign(entries[10], honest, { details: { studyId: 'heart-lr', round: 1 } })), ...original.slice(11)]);
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 11, line: 12, reason: 'chain-broken' });
  });

  it.each([
    ['not JSON', 'hello\n'],
    ['a blank line', '\n'],
    ['a missing field', JSON.stringify({ format: 'medfed-audit/1', seq: 2 }) + '\n'],
  ])('reports %s as malformed with the seq that belongs there', (_, line) => {
    write([...original.slice(0, 2), line, ...original.slice(2)]);
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 2, line: 3, reason: 'malformed' });
  });

  it('reports a number JSON reads as Infinity as malformed instead of throwing', () => {
    write([...original.slice(0, 9), original[9].toString().replace('"bytes":1804', '"bytes":1e999'), ...original.slice(10)]);
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 9, reason: 'malformed', message: expect.stringContaining('non-finite') });
  });

  it('reports invalid UTF-8 as malformed', () => {
    const broken = Buffer.from(original[4]);
    broken[10] = 0xff;
    write([...original.slice(0, 4), broken, ...original.slice(5)]);
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 4, reason: 'malformed', message: expect.stringContaining('UTF-8') });
  });

  it('reports an entry reformatted (same content, other whitespace) as edited', () => {
    write([...original.slice(0, 2), JSON.stringify(entries[2], null, 1).replace(/\n/g, '') + '\n', ...original.slice(3)]);
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 2, reason: 'edited' });
  });
});

describe('exportAuditLog and readAuditLog', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'medfed-audit-export-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a copy that verifies on its own with the same last hash', () => {
    // Arrange
    const source = join(dir, 'audit.jsonl');
    const entries = writeRealisticAuditLog(source, honest);
    const out = join(dir, 'export.jsonl');
    // Act
    const result = exportAuditLog(source, out);
    // Assert
    expect(result).toMatchObject({ ok: true, entries: 20, lastHash: entries[19].hash });
    expect(verifyAuditLog(out, { expectedSigner: honestKey, lastReceipt: { seq: 19, hash: entries[19].hash } })).toMatchObject({ ok: true, entries: 20 });
    expect(readFileSync(out)).toEqual(readFileSync(source));
  });

  it('exports only the verified entries before a problem, and says so', () => {
    const source = join(dir, 'audit.jsonl');
    writeRealisticAuditLog(source, honest);
    const lines = linesOf(source);
    writeFileSync(source, Buffer.concat([...lines.slice(0, 12), ...lines.slice(13)]));
    const out = join(dir, 'export.jsonl');
    const result = exportAuditLog(source, out);
    expect(result).toMatchObject({ ok: false, entries: 12, firstProblem: { seq: 12, reason: 'deleted' } });
    expect(verifyAuditLog(out)).toMatchObject({ ok: true, entries: 12 });
  });

  it('readAuditLog returns the entries in order and skips a cut-short last line', () => {
    const source = join(dir, 'audit.jsonl');
    const entries = writeRealisticAuditLog(source, honest);
    writeFileSync(source, Buffer.concat([readFileSync(source), Buffer.from('{"at":"2025')]));
    expect(readAuditLog(source)).toEqual(entries);
  });

  it('readAuditLog names the line that is not an entry, and a missing file', () => {
    const source = join(dir, 'audit.jsonl');
    writeFileSync(source, 'nope\n');
    expect(() => readAuditLog(source)).toThrow(/line 1: not JSON/);
    expect(() => verifyAuditLog(join(dir, 'missing.jsonl'))).toThrow(/cannot read audit log .*ENOENT/);
  });
});
