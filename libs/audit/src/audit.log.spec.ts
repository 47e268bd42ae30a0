import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultSigner, fromBase64, sha256Hex, toBase64 } from '@medfed/crypto';
import { testIdentity } from '@medfed/crypto/testing';
import { AUDIT_GENESIS_HASH, AuditWriteError } from './audit-entry.model';
import { readAuditLog, verifyAuditLog } from './audit-log.verifier';
import { AuditLog } from './audit.log';

const node = testIdentity('audit/st-gallen');
const other = testIdentity('audit/basel');
const fixedClock = () => new Date('2025-03-01T08:00:00.000Z');

describe('AuditLog', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-audit-log-'));
    path = join(dir, 'state', 'audit.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes entry 0 with the documented hash and signature, one canonical JSON line', () => {
    // Arrange
    const log = AuditLog.open(path, node, { now: fixedClock });
    // Act
    const entry = log.append('node.started', { nodeId: 'st-gallen', version: '0.1.0' });
    log.close();
    // Assert: hash recomputed independently from a hand-written canonical body
    const key = toBase64(node.signing.publicKey);
    const details = '{"nodeId":"st-gallen","version":"0.1.0"}';
    const body = `{"at":"2025-03-01T08:00:00.000Z","details":${details},"event":"node.started","format":"medfed-audit/1","prevHash":"${'0'.repeat(64)}","seq":0,"signer":"${key}"}`;
    expect(entry.hash).toBe(sha256Hex(new TextEncoder().encode(body)));
    expect(defaultSigner.verify(Buffer.from(entry.hash, 'hex'), fromBase64(entry.sig), node.signing.publicKey)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(
      `{"at":"2025-03-01T08:00:00.000Z","details":${details},"event":"node.started","format":"medfed-audit/1","hash":"${entry.hash}",` +
        `"prevHash":"${'0'.repeat(64)}","seq":0,"sig":"${entry.sig}","signer":"${key}"}\n`,
    );
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('continues the chain after reopening: seq, prevHash and length carry on', () => {
    // Arrange
    const first = AuditLog.open(path, node);
    const a = first.append('node.started', {});
    const b = first.append('config.loaded', { configSha256: 'c'.repeat(64) });
    first.close();
    // Act
    const second = AuditLog.open(path, node);
    const lengthOnOpen = second.length;
    const hashOnOpen = second.lastHash;
    const c = second.append('node.stopped', {});
    second.close();
    // Assert
    expect([a.seq, b.seq, c.seq]).toEqual([0, 1, 2]);
    expect(a.prevHash).toBe(AUDIT_GENESIS_HASH);
    expect([lengthOnOpen, hashOnOpen]).toEqual([2, b.hash]);
    expect(c.prevHash).toBe(b.hash);
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, entries: 3, lastHash: c.hash });
  });

  it('copies details: changing the object afterwards changes neither the entry nor the file', () => {
    const log = AuditLog.open(path, node);
    const details = { studyId: 'heart-lr', round: 1 };
    const entry = log.append('round.joined', details);
    details.round = 99;
    log.close();
    expect(entry.details['round']).toBe(1);
    expect(readAuditLog(path)[0].details['round']).toBe(1);
  });

  it('refuses unsafe details, unknown events and appends after close, writing nothing', () => {
    // Arrange
    const log = AuditLog.open(path, node);
    // Act / Assert
    expect(() => log.append('message.sent', { weights: [0.1, 0.2] })).toThrow(AuditWriteError);
    expect(() => log.append('nope' as 'node.started', {})).toThrow(/unknown audit event "nope"/);
    log.close();
    expect(() => log.append('node.stopped', {})).toThrow(/is closed/);
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('refuses to continue a log signed by another key, or whose last entry was edited', () => {
    // Arrange
    const log = AuditLog.open(path, node);
    log.append('node.started', {});
    log.close();
    // Act / Assert
    expect(() => AuditLog.open(path, other)).toThrow(/signed by another key/);
    writeFileSync(path, readFileSync(path, 'utf8').replace('node.started', 'node.stopped'));
    expect(() => AuditLog.open(path, node)).toThrow(/last entry \(seq 0\) was edited/);
  });

  it('refuses a file it cannot open, as AuditWriteError', () => {
    writeFileSync(join(dir, 'file'), '');
    expect(() => AuditLog.open(join(dir, 'file', 'audit.jsonl'), node)).toThrow(AuditWriteError);
  });

  it('repairs a cut-short last line on open and records its length in the next entry', () => {
    // Arrange
    const log = AuditLog.open(path, node);
    log.append('node.started', {});
    const second = log.append('round.joined', { studyId: 'heart-lr', round: 1 });
    log.close();
    appendFileSync(path, '{"at":"2025-03-01T08:0');
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: 2, reason: 'truncated' });
    // Act
    const reopened = AuditLog.open(path, node);
    const next = reopened.append('node.started', { after: 'crash' });
    const later = reopened.append('node.stopped', {});
    reopened.close();
    // Assert
    expect(next).toMatchObject({ seq: 2, prevHash: second.hash, details: { after: 'crash', repairedBytes: 22 } });
    expect(later.details).toEqual({});
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, entries: 4 });
  });

  it('repairs a file holding only a cut-short first line', () => {
    writeFileSync(join(dir, 'only-partial.jsonl'), '{"at":');
    const log = AuditLog.open(join(dir, 'only-partial.jsonl'), node);
    const entry = log.append('node.started', {});
    log.close();
    expect(entry).toMatchObject({ seq: 0, prevHash: AUDIT_GENESIS_HASH, details: { repairedBytes: 6 } });
  });

  it('finds the last entry of a log longer than one 64 KiB tail chunk', () => {
    const log = AuditLog.open(path, node);
    for (let i = 0; i < 300; i += 1) log.append('message.sent', { kind: 'train-result', round: i, bytes: 1804, note: 'n'.repeat(400) });
    const last = log.lastHash;
    log.close();
    expect(statSync(path).size).toBeGreaterThan(2 * 64 * 1024);
    const reopened = AuditLog.open(path, node);
    expect([reopened.length, reopened.lastHash]).toEqual([300, last]);
    reopened.close();
  });

  it('survives SIGKILL mid-loop: every acknowledged entry is on disk and verifies; reopening repairs a torn tail', async () => {
    // Arrange: a child appends as fast as it can and prints each seq once append returned
    const child = spawn(process.execPath, ['-r', '@swc-node/register', resolve(__dirname, 'fixtures/append-loop.fixture.ts'), path], {
      cwd: resolve(__dirname, '../../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acknowledged = -1;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
    await new Promise<void>((done, fail) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const seqs = chunk.toString().trim().split('\n');
        acknowledged = Math.max(acknowledged, Number(seqs[seqs.length - 1]));
        if (acknowledged >= 150) done();
      });
      child.on('exit', () => fail(new Error(`child exited early: ${stderr}`)));
    });
    // Act
    child.kill('SIGKILL');
    const signal = await exited;
    // Assert: every acknowledged entry is present and the chain verifies up to the last complete entry
    expect(signal).toBe('SIGKILL');
    const afterKill = verifyAuditLog(path);
    expect(afterKill.entries).toBeGreaterThanOrEqual(acknowledged + 1);
    expect(afterKill.ok || afterKill.firstProblem?.reason === 'truncated').toBe(true);
    // Arrange: a torn write (what a kill inside write() or a power cut leaves) on top of whatever the kill left
    appendFileSync(path, '{"at":"2025-03-01T08:00:00.000Z","details":{"kind"');
    const complete = afterKill.entries;
    const bytes = readFileSync(path);
    const tornBytes = bytes.length - (bytes.lastIndexOf(0x0a) + 1);
    expect(verifyAuditLog(path).firstProblem).toMatchObject({ seq: complete, reason: 'truncated' });
    // Act
    const reopened = AuditLog.open(path, testIdentity('audit/crash-child'));
    const repaired = reopened.append('node.started', { after: 'crash' });
    reopened.close();
    // Assert
    expect(repaired.seq).toBe(complete);
    expect(repaired.details['repairedBytes']).toBe(tornBytes);
    expect(tornBytes).toBeGreaterThanOrEqual(50);
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, entries: complete + 1 });
  }, 30_000);
});
