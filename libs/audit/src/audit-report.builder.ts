import { fromBase64, keyFingerprint } from '@medfed/crypto';
import type { AuditEntry, AuditValue } from './audit-entry.model';

/** Messages and bytes. */
export interface AuditTraffic {
  messages: number;
  bytes: number;
}

/** Traffic in one direction: total, and split by message kind, by peer and by study. */
export interface AuditTrafficSummary {
  total: AuditTraffic;
  byKind: Record<string, AuditTraffic>;
  /** Keyed by `details.recipient` (sent) or `details.sender` (received); `(unspecified)` when absent. */
  byPeer: Record<string, AuditTraffic>;
  /** Keyed by `details.studyId`; `(no study)` for Hello and the like. */
  byStudy: Record<string, AuditTraffic>;
}

/** A manifest decision: approved, revoked or declined, by whom and when. */
export interface AuditManifestDecision {
  seq: number;
  at: string;
  decision: 'approved' | 'revoked' | 'declined';
  studyId: string | null;
  by: string | null;
  manifestSha256: string | null;
  reason: string | null;
}

/** Something refused: a task, a manifest or an input. */
export interface AuditRefusal {
  seq: number;
  at: string;
  event: string;
  studyId: string | null;
  round: number | null;
  reason: string | null;
}

/** Differential-privacy budget of one study (ε). */
export interface AuditBudget {
  studyId: string;
  /** ε spent during the report's period: `spentTotal` minus what had been spent before `since`. */
  spentInPeriod: number;
  /**
   * ε spent over the whole log given, whatever `since` says (budget is cumulative): the latest
   * `details.epsilonAfter` (the study's cumulative ε under RDP composition, as the privacy ledger reports
   * it), plus `details.epsilon` of any later entries that give only a per-round ε (added up, an upper bound).
   */
  spentTotal: number;
  /** The latest `details.epsilonLimit` recorded; null if none. */
  limit: number | null;
  /** `limit - spentTotal`; null without a limit. */
  remaining: number | null;
}

/** Everything about one study in the period. */
export interface AuditStudySummary {
  studyId: string;
  approvedAt: string | null;
  approvedBy: string | null;
  roundsJoined: number;
  sent: AuditTraffic;
  received: AuditTraffic;
  receiptsStored: number;
  refusals: number;
  epsilonSpent: number;
  epsilonLimit: number | null;
}

/** A privacy officer's summary of an audit log; see `buildAuditReport`. */
export interface AuditReport {
  format: 'medfed-audit-report/1';
  filter: { since: string | null; studyId: string | null };
  /** Fingerprints (first 8 bytes of SHA-256, hex) of the keys that signed the entries reported. */
  signers: string[];
  period: { from: string | null; to: string | null };
  entries: number;
  events: Record<string, number>;
  manifests: AuditManifestDecision[];
  sent: AuditTrafficSummary;
  received: AuditTrafficSummary;
  privacy: AuditBudget[];
  refusals: AuditRefusal[];
  studies: AuditStudySummary[];
}

/** Options of `buildAuditReport`. */
export interface AuditReportFilter {
  /** Only entries at or after this time. */
  since?: Date;
  /** Only entries whose `details.studyId` is this. */
  studyId?: string;
}

const NO_STUDY = '(no study)';
const NO_PEER = '(unspecified)';

function text(details: Record<string, AuditValue>, key: string): string | null {
  const value = details[key];
  return typeof value === 'string' ? value : null;
}

function num(details: Record<string, AuditValue>, key: string): number | null {
  const value = details[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function emptyTraffic(): AuditTrafficSummary {
  return { total: { messages: 0, bytes: 0 }, byKind: {}, byPeer: {}, byStudy: {} };
}

function bump(traffic: AuditTraffic, bytes: number): void {
  traffic.messages += 1;
  traffic.bytes += bytes;
}

function add(map: Record<string, AuditTraffic>, key: string, bytes: number): void {
  bump((map[key] ??= { messages: 0, bytes: 0 }), bytes);
}

function count(summary: AuditTrafficSummary, details: Record<string, AuditValue>, peerKey: string): void {
  const bytes = num(details, 'bytes') ?? 0;
  bump(summary.total, bytes);
  add(summary.byKind, text(details, 'kind') ?? '(unknown)', bytes);
  add(summary.byPeer, text(details, peerKey) ?? NO_PEER, bytes);
  add(summary.byStudy, text(details, 'studyId') ?? NO_STUDY, bytes);
}

const REFUSAL_EVENTS: ReadonlySet<string> = new Set(['task.refused', 'manifest.declined', 'input.rejected']);

function study(summaries: Map<string, AuditStudySummary>, studyId: string): AuditStudySummary {
  let summary = summaries.get(studyId);
  if (!summary) {
    summary = {
      studyId,
      approvedAt: null,
      approvedBy: null,
      roundsJoined: 0,
      sent: { messages: 0, bytes: 0 },
      received: { messages: 0, bytes: 0 },
      receiptsStored: 0,
      refusals: 0,
      epsilonSpent: 0,
      epsilonLimit: null,
    };
    summaries.set(studyId, summary);
  }
  return summary;
}

/**
 * Summarises audit entries for a person: manifest decisions (who approved which study, when), what left
 * the hospital (messages and bytes by kind, recipient and study), what arrived, the privacy budget spent
 * against its limit, and everything refused. Reads the detail fields listed in the lib's README; entries
 * are expected verified (`verifyAuditLog`) — this function does not check signatures.
 * @param entries - the log, in order (`readAuditLog`)
 * @param filter - `since` (inclusive) and `studyId`; everything by default
 */
export function buildAuditReport(entries: readonly AuditEntry[], filter: AuditReportFilter = {}): AuditReport {
  const sinceMs = filter.since?.getTime();
  const matchesStudy = (entry: AuditEntry) => filter.studyId === undefined || entry.details['studyId'] === filter.studyId;
  const selected = entries.filter((entry) => matchesStudy(entry) && (sinceMs === undefined || Date.parse(entry.at) >= sinceMs));

  const sent = emptyTraffic();
  const received = emptyTraffic();
  const events: Record<string, number> = {};
  const manifests: AuditManifestDecision[] = [];
  const refusals: AuditRefusal[] = [];
  const studies = new Map<string, AuditStudySummary>();
  const budgets = new Map<string, AuditBudget>();
  const spentBeforePeriod = new Map<string, number>();

  // Budget is cumulative, so the whole log counts towards spentTotal and the limit, whatever the period.
  for (const entry of entries) {
    if (entry.event !== 'privacy.spent' || !matchesStudy(entry)) continue;
    const studyId = text(entry.details, 'studyId') ?? NO_STUDY;
    let target = budgets.get(studyId);
    if (!target) budgets.set(studyId, (target = { studyId, spentInPeriod: 0, spentTotal: 0, limit: null, remaining: null }));
    // RDP composition is sub-additive: a cumulative figure replaces the running sum rather than adding to it.
    const cumulative = num(entry.details, 'epsilonAfter');
    target.spentTotal = cumulative ?? target.spentTotal + (num(entry.details, 'epsilon') ?? 0);
    target.limit = num(entry.details, 'epsilonLimit') ?? target.limit;
    if (sinceMs !== undefined && Date.parse(entry.at) < sinceMs) spentBeforePeriod.set(studyId, target.spentTotal);
  }
  for (const target of budgets.values()) target.spentInPeriod = target.spentTotal - (spentBeforePeriod.get(target.studyId) ?? 0);

  for (const entry of selected) {
    const { details } = entry;
    const studyId = text(details, 'studyId');
    events[entry.event] = (events[entry.event] ?? 0) + 1;
    const summary = studyId === null ? null : study(studies, studyId);
    switch (entry.event) {
      case 'message.sent':
        count(sent, details, 'recipient');
        if (summary) bump(summary.sent, num(details, 'bytes') ?? 0);
        break;
      case 'message.received':
        count(received, details, 'sender');
        if (summary) bump(summary.received, num(details, 'bytes') ?? 0);
        break;
      case 'manifest.approved':
      case 'manifest.revoked':
      case 'manifest.declined': {
        const decision = entry.event.slice('manifest.'.length) as AuditManifestDecision['decision'];
        const by = text(details, 'by') ?? text(details, 'approvedBy');
        manifests.push({ seq: entry.seq, at: entry.at, decision, studyId, by, manifestSha256: text(details, 'manifestSha256'), reason: text(details, 'reason') });
        if (summary && decision === 'approved') {
          summary.approvedAt = entry.at;
          summary.approvedBy = by;
        }
        break;
      }
      case 'round.joined':
        if (summary) summary.roundsJoined += 1;
        break;
      case 'receipt.stored':
        if (summary) summary.receiptsStored += 1;
        break;
      default:
        break;
    }
    if (REFUSAL_EVENTS.has(entry.event)) {
      refusals.push({ seq: entry.seq, at: entry.at, event: entry.event, studyId, round: num(details, 'round'), reason: text(details, 'reason') ?? text(details, 'code') });
      if (summary) summary.refusals += 1;
    }
  }

  const privacy = [...budgets.values()]
    .map((item) => ({ ...item, remaining: item.limit === null ? null : item.limit - item.spentTotal }))
    .sort((a, b) => a.studyId.localeCompare(b.studyId));
  for (const item of privacy) {
    const summary = studies.get(item.studyId);
    if (summary) {
      summary.epsilonSpent = item.spentInPeriod;
      summary.epsilonLimit = item.limit;
    }
  }
  const signers = [...new Set(selected.map((entry) => entry.signer))].map((signer) => keyFingerprint(fromBase64(signer, 32)));

  return {
    format: 'medfed-audit-report/1',
    filter: { since: filter.since?.toISOString() ?? null, studyId: filter.studyId ?? null },
    signers,
    period: { from: selected[0]?.at ?? null, to: selected[selected.length - 1]?.at ?? null },
    entries: selected.length,
    events,
    manifests,
    sent,
    received,
    privacy,
    refusals,
    studies: [...studies.values()].sort((a, b) => a.studyId.localeCompare(b.studyId)),
  };
}
