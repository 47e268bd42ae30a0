export {
  AUDIT_FORMAT,
  AUDIT_GENESIS_HASH,
  AUDIT_EVENTS,
  AuditWriteError,
  AuditReadError,
  auditEntryHash,
} from './audit-entry.model';
export type { AuditEntry, AuditEventName, AuditValue } from './audit-entry.model';
export { canonicalJson } from './canonical-json.util';
export {
  assertSafeDetails,
  AUDIT_MAX_ARRAY_LENGTH,
  AUDIT_MAX_STRING_LENGTH,
  AUDIT_MAX_NUMBERS_PER_ARRAY,
  AUDIT_MAX_DEPTH,
  AUDIT_MAX_DETAILS_CHARS,
  AUDIT_RAW_DATA_KEYS,
} from './safe-details.guard';
export { AuditLog } from './audit.log';
export type { AuditSink, AuditLogOptions } from './audit.log';
export { verifyAuditLog, readAuditLog, exportAuditLog } from './audit-log.verifier';
export type { VerifyProblem, VerifyResult, VerifyReason, VerifyOptions } from './audit-log.verifier';
export { buildAuditReport } from './audit-report.builder';
export type {
  AuditReport,
  AuditReportFilter,
  AuditTraffic,
  AuditTrafficSummary,
  AuditManifestDecision,
  AuditRefusal,
  AuditBudget,
  AuditStudySummary,
} from './audit-report.builder';
export { formatAuditReport, AUDIT_REPORT_CSV_COLUMNS } from './audit-report.formatter';
export type { AuditReportFormat } from './audit-report.formatter';
export { reconcileWithCoordinator } from './receipt-reconciler';
export type { CoordinatorClaim, ReconcileProblem, ReconcileResult } from './receipt-reconciler';
