import type { AuditReport, AuditTraffic, AuditTrafficSummary } from './audit-report.builder';

/** Output formats of `formatAuditReport`. */
export type AuditReportFormat = 'md' | 'json' | 'csv';

/** Columns of the CSV form, in order. */
export const AUDIT_REPORT_CSV_COLUMNS = ['section', 'name', 'study', 'count', 'bytes', 'value', 'limit', 'at', 'detail'] as const;

type CsvRow = Partial<Record<(typeof AUDIT_REPORT_CSV_COLUMNS)[number], string | number | null>>;

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading =+-@ is prefixed so spreadsheets never run it. */
function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let field = String(value);
  if (typeof value === 'string' && /^[=+\-@]/.test(field)) field = `'${field}`;
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

function trafficRows(section: string, summary: AuditTrafficSummary): CsvRow[] {
  const rows: CsvRow[] = [{ section: `${section}.total`, count: summary.total.messages, bytes: summary.total.bytes }];
  for (const [name, traffic] of Object.entries(summary.byKind)) rows.push({ section: `${section}.kind`, name, count: traffic.messages, bytes: traffic.bytes });
  for (const [name, traffic] of Object.entries(summary.byPeer)) rows.push({ section: `${section}.peer`, name, count: traffic.messages, bytes: traffic.bytes });
  for (const [study, traffic] of Object.entries(summary.byStudy)) rows.push({ section: `${section}.study`, study, count: traffic.messages, bytes: traffic.bytes });
  return rows;
}

function toCsv(report: AuditReport): string {
  const rows: CsvRow[] = [
    { section: 'period', name: 'from', at: report.period.from },
    { section: 'period', name: 'to', at: report.period.to },
    { section: 'entries', count: report.entries, detail: `signers ${report.signers.join(' ')}` },
    ...Object.entries(report.events).map(([name, count]) => ({ section: 'event', name, count })),
    ...report.manifests.map((m) => ({ section: 'manifest', name: m.decision, study: m.studyId, at: m.at, detail: [m.by && `by ${m.by}`, m.manifestSha256 && `sha256 ${m.manifestSha256}`, m.reason].filter(Boolean).join('; ') })),
    ...trafficRows('sent', report.sent),
    ...trafficRows('received', report.received),
    ...report.privacy.map((b) => ({ section: 'privacy', name: 'epsilon', study: b.studyId, value: b.spentTotal, limit: b.limit, detail: `in period ${b.spentInPeriod}` })),
    ...report.refusals.map((r) => ({ section: 'refusal', name: r.event, study: r.studyId, at: r.at, value: r.round, detail: r.reason })),
  ];
  const lines = [AUDIT_REPORT_CSV_COLUMNS.join(','), ...rows.map((row) => AUDIT_REPORT_CSV_COLUMNS.map((column) => csvField(row[column])).join(','))];
  return lines.join('\r\n') + '\r\n';
}

/** Markdown table cell: pipes and line breaks would break the table. */
function cell(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  return String(value).replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

function table(head: string[], rows: (string | number | null | undefined)[][]): string[] {
  if (rows.length === 0) return ['_none_', ''];
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`), ''];
}

function trafficTable(label: string, map: Record<string, AuditTraffic>): string[] {
  return table([label, 'messages', 'bytes'], Object.entries(map).map(([key, traffic]) => [key, traffic.messages, traffic.bytes]));
}

function toMarkdown(report: AuditReport): string {
  const filter = [report.filter.since && `since ${report.filter.since}`, report.filter.studyId && `study ${report.filter.studyId}`].filter(Boolean).join(', ');
  const lines = [
    '# medfed audit report',
    '',
    `- Period: ${report.period.from ?? '—'} to ${report.period.to ?? '—'}${filter ? ` (${filter})` : ''}`,
    `- Entries: ${report.entries}, signed by key ${report.signers.join(', ') || '—'}`,
    `- Left the hospital: ${report.sent.total.messages} messages, ${report.sent.total.bytes} bytes`,
    `- Received: ${report.received.total.messages} messages, ${report.received.total.bytes} bytes`,
    `- Refused: ${report.refusals.length}`,
    '',
    '## Study manifests',
    '',
    ...table(
      ['at', 'decision', 'study', 'by', 'manifest SHA-256', 'reason'],
      report.manifests.map((m) => [m.at, m.decision, m.studyId, m.by, m.manifestSha256, m.reason]),
    ),
    '## Studies',
    '',
    ...table(
      ['study', 'approved', 'by', 'rounds joined', 'messages sent', 'bytes sent', 'receipts', 'refusals', 'ε spent (period)', 'ε limit'],
      report.studies.map((s) => [s.studyId, s.approvedAt, s.approvedBy, s.roundsJoined, s.sent.messages, s.sent.bytes, s.receiptsStored, s.refusals, s.epsilonSpent, s.epsilonLimit]),
    ),
    '## What left the hospital',
    '',
    '### By kind',
    '',
    ...trafficTable('kind', report.sent.byKind),
    '### By recipient',
    '',
    ...trafficTable('recipient', report.sent.byPeer),
    '### By study',
    '',
    ...trafficTable('study', report.sent.byStudy),
    '## What arrived',
    '',
    ...trafficTable('kind', report.received.byKind),
    '## Privacy budget (ε)',
    '',
    ...table(
      ['study', 'spent in period', 'spent in total', 'limit', 'remaining'],
      report.privacy.map((b) => [b.studyId, b.spentInPeriod, b.spentTotal, b.limit, b.remaining]),
    ),
    '## Refused',
    '',
    ...table(['at', 'event', 'study', 'round', 'reason'], report.refusals.map((r) => [r.at, r.event, r.studyId, r.round, r.reason])),
    '## Events',
    '',
    ...table(['event', 'count'], Object.entries(report.events).map(([event, n]) => [event, n])),
  ];
  return lines.join('\n');
}

/**
 * Renders an audit report: `md` for a person (sections: manifests, studies, what left by kind, recipient
 * and study, what arrived, privacy budget, refusals, event counts), `json` (the report object, indented)
 * or `csv` (RFC 4180, CRLF, one row per figure; columns `AUDIT_REPORT_CSV_COLUMNS`).
 * @param report - from `buildAuditReport`
 * @param format - `md`, `json` or `csv`
 */
export function formatAuditReport(report: AuditReport, format: AuditReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n';
    case 'csv':
      return toCsv(report);
    case 'md':
      return toMarkdown(report);
    default:
      throw new TypeError(`unknown report format "${String(format)}" (md, json or csv)`);
  }
}
