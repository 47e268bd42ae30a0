import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyFingerprint } from '@medfed/crypto';
import { testIdentity } from '@medfed/crypto/testing';
import type { AuditEntry } from './audit-entry.model';
import { readAuditLog } from './audit-log.verifier';
import { buildAuditReport } from './audit-report.builder';
import { AUDIT_REPORT_CSV_COLUMNS, formatAuditReport } from './audit-report.formatter';
import { MemoryAuditSink, REALISTIC_AUDIT_EVENTS, writeRealisticAuditLog } from './testing';

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF) into records keyed by the header. */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 1;
    } else field += char;
  }
  const [head, ...body] = rows;
  return body.map((cells) => Object.fromEntries(head.map((name, index) => [name, cells[index]])));
}

const identity = testIdentity('audit/st-gallen');

describe('buildAuditReport and formatAuditReport', () => {
  let dir: string;
  let entries: AuditEntry[];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-audit-report-'));
    const path = join(dir, 'audit.jsonl');
    writeRealisticAuditLog(path, identity);
    entries = readAuditLog(path);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds up what left the hospital by kind, recipient and study (hand-counted: 412 + 1804 + 1804 + 512)', () => {
    // Act
    const report = buildAuditReport(entries);
    // Assert
    expect(report.entries).toBe(20);
    expect(report.period).toEqual({ from: '2025-03-01T08:00:00.000Z', to: '2025-03-01T08:19:00.000Z' });
    expect(report.signers).toEqual([keyFingerprint(identity.signing.publicKey)]);
    expect(report.sent).toEqual({
      total: { messages: 4, bytes: 4532 },
      byKind: { hello: { messages: 1, bytes: 412 }, 'train-result': { messages: 2, bytes: 3608 }, 'evaluate-result': { messages: 1, bytes: 512 } },
      byPeer: { coordinator: { messages: 4, bytes: 4532 } },
      byStudy: { '(no study)': { messages: 1, bytes: 412 }, 'heart-lr': { messages: 3, bytes: 4120 } },
    });
    expect(report.received.total).toEqual({ messages: 3, bytes: 5580 });
    expect(report.received.byKind).toEqual({ welcome: { messages: 1, bytes: 380 }, 'train-task': { messages: 2, bytes: 5200 } });
    // Cross-check against the appended details, summed independently of the builder.
    const appended = REALISTIC_AUDIT_EVENTS.filter(([event]) => event === 'message.sent').map(([, details]) => details['bytes'] as number);
    expect(appended.reduce((a, b) => a + b, 0)).toBe(report.sent.total.bytes);
  });

  it('lists manifest decisions, the privacy budget and every refusal', () => {
    const report = buildAuditReport(entries);
    expect(report.manifests).toEqual([
      { seq: 4, at: '2025-03-01T08:04:00.000Z', decision: 'approved', studyId: 'heart-lr', by: 'dr.meier', manifestSha256: '3'.repeat(64), reason: null },
      { seq: 5, at: '2025-03-01T08:05:00.000Z', decision: 'declined', studyId: 'heart-mlp', by: 'policy', manifestSha256: '4'.repeat(64), reason: 'MODEL_FAMILY_NOT_ALLOWED' },
    ]);
    // Cumulative ε under RDP composition (0.62 then 0.91), not the sum 1.53.
    expect(report.privacy).toEqual([{ studyId: 'heart-lr', spentInPeriod: 0.91, spentTotal: 0.91, limit: 4, remaining: 3.09 }]);
    expect(report.refusals.map((r) => [r.seq, r.event, r.studyId, r.round, r.reason])).toEqual([
      [5, 'manifest.declined', 'heart-mlp', null, 'MODEL_FAMILY_NOT_ALLOWED'],
      [11, 'task.refused', 'heart-mlp', 1, 'MODEL_FAMILY_NOT_ALLOWED'],
      [17, 'input.rejected', 'heart-lr', null, 'REPLAYED'],
    ]);
    expect(report.studies).toEqual([
      {
        studyId: 'heart-lr',
        approvedAt: '2025-03-01T08:04:00.000Z',
        approvedBy: 'dr.meier',
        roundsJoined: 2,
        sent: { messages: 3, bytes: 4120 },
        received: { messages: 2, bytes: 5200 },
        receiptsStored: 2,
        refusals: 1,
        epsilonSpent: 0.91,
        epsilonLimit: 4,
      },
      {
        studyId: 'heart-mlp',
        approvedAt: null,
        approvedBy: null,
        roundsJoined: 0,
        sent: { messages: 0, bytes: 0 },
        received: { messages: 0, bytes: 0 },
        receiptsStored: 0,
        refusals: 2,
        epsilonSpent: 0,
        epsilonLimit: null,
      },
    ]);
    expect(report.events).toMatchObject({ 'message.sent': 4, 'message.received': 3, 'privacy.spent': 2, 'round.joined': 2, 'node.started': 1 });
  });

  it('filters by since (budget spent in total still counts the earlier rounds)', () => {
    const report = buildAuditReport(entries, { since: new Date('2025-03-01T08:12:00.000Z') });
    expect(report.entries).toBe(8);
    expect(report.filter).toEqual({ since: '2025-03-01T08:12:00.000Z', studyId: null });
    expect(report.sent.total).toEqual({ messages: 2, bytes: 2316 });
    expect(report.privacy).toHaveLength(1);
    expect(report.privacy[0]).toMatchObject({ studyId: 'heart-lr', spentTotal: 0.91, limit: 4 });
    expect(report.privacy[0].spentInPeriod).toBeCloseTo(0.29, 12);
    expect(report.manifests).toEqual([]);
    expect(report.refusals.map((r) => r.seq)).toEqual([17]);
  });

  it('filters by study', () => {
    const report = buildAuditReport(entries, { studyId: 'heart-mlp' });
    expect(report.entries).toBe(2);
    expect(report.sent.total).toEqual({ messages: 0, bytes: 0 });
    expect(report.privacy).toEqual([]);
    expect(report.refusals).toHaveLength(2);
  });

  it('renders markdown with the totals and the per-kind table', () => {
    const md = formatAuditReport(buildAuditReport(entries), 'md');
    expect(md).toContain('- Left the hospital: 4 messages, 4532 bytes');
    expect(md).toContain('| train-result | 2 | 3608 |');
    expect(md).toContain('| 2025-03-01T08:04:00.000Z | approved | heart-lr | dr.meier |');
    expect(md).toContain('| heart-lr | 0.91 | 0.91 | 4 | 3.09 |');
    expect(md).toContain('| 2025-03-01T08:11:00.000Z | task.refused | heart-mlp | 1 | MODEL_FAMILY_NOT_ALLOWED |');
  });

  it('renders JSON that parses back to the report', () => {
    const report = buildAuditReport(entries);
    expect(JSON.parse(formatAuditReport(report, 'json'))).toEqual(report);
  });

  it('renders CSV whose rows add up to the totals', () => {
    const rows = parseCsv(formatAuditReport(buildAuditReport(entries), 'csv'));
    const sum = (section: string, column: string) => rows.filter((r) => r.section === section).reduce((total, r) => total + Number(r[column]), 0);
    expect(Object.keys(rows[0])).toEqual([...AUDIT_REPORT_CSV_COLUMNS]);
    expect(rows.find((r) => r.section === 'sent.total')).toMatchObject({ count: '4', bytes: '4532' });
    expect([sum('sent.kind', 'count'), sum('sent.kind', 'bytes')]).toEqual([4, 4532]);
    expect([sum('sent.study', 'count'), sum('sent.study', 'bytes')]).toEqual([4, 4532]);
    expect([sum('received.kind', 'count'), sum('received.kind', 'bytes')]).toEqual([3, 5580]);
    expect(rows.filter((r) => r.section === 'refusal')).toHaveLength(3);
    expect(rows.find((r) => r.section === 'privacy')).toMatchObject({ study: 'heart-lr', value: '0.91', limit: '4' });
  });

  it('adds up per-round ε when entries give no cumulative figure, and lets a cumulative one take over', () => {
    // Arrange
    let minute = 0;
    const sink = new MemoryAuditSink(identity, () => new Date(Date.UTC(2025, 2, 1, 8, minute++)));
    sink.append('privacy.spent', { studyId: 's', round: 1, epsilon: 0.25, epsilonLimit: 2 });
    sink.append('privacy.spent', { studyId: 's', round: 2, epsilon: 0.5 });
    sink.append('privacy.spent', { studyId: 't', round: 1, epsilon: 1 });
    // Act / Assert
    expect(buildAuditReport(sink.entries).privacy).toEqual([
      { studyId: 's', spentInPeriod: 0.75, spentTotal: 0.75, limit: 2, remaining: 1.25 },
      { studyId: 't', spentInPeriod: 1, spentTotal: 1, limit: null, remaining: null },
    ]);
    sink.append('privacy.spent', { studyId: 's', round: 3, epsilonAfter: 0.7 });
    const [since] = buildAuditReport(sink.entries, { since: new Date(Date.UTC(2025, 2, 1, 8, 1)) }).privacy;
    expect(since).toMatchObject({ studyId: 's', spentTotal: 0.7, limit: 2 });
    expect(since.spentInPeriod).toBeCloseTo(0.7 - 0.25, 12);
    expect(since.remaining).toBeCloseTo(1.3, 12);
  });

  it('quotes CSV fields with commas and quotes, and defuses spreadsheet formulas', () => {
    const sink = new MemoryAuditSink(identity, () => new Date('2025-03-02T00:00:00.000Z'));
    sink.append('task.refused', { studyId: 'heart-lr', round: 2, reason: '=HYPERLINK("x"), y' });
    const rows = parseCsv(formatAuditReport(buildAuditReport(sink.entries), 'csv'));
    expect(rows.find((r) => r.section === 'refusal')?.detail).toBe(`'=HYPERLINK("x"), y`);
  });

  it('renders an empty log without failing', () => {
    const report = buildAuditReport([]);
    expect(report.period).toEqual({ from: null, to: null });
    expect(formatAuditReport(report, 'md')).toContain('_none_');
    expect(parseCsv(formatAuditReport(report, 'csv'))[0]).toMatchObject({ section: 'period', name: 'from', at: '' });
  });
});
