// Test doubles for code that writes audit entries (node, coordinator, CLI specs).
import { testIdentity } from '@medfed/crypto/testing';
import { toBase64, type Identity } from '@medfed/crypto';
import {
  AUDIT_FORMAT,
  AUDIT_GENESIS_HASH,
  AuditWriteError,
  sealAuditEntry,
  type AuditEntry,
  type AuditEventName,
  type AuditValue,
} from './audit-entry.model';
import { AuditLog, type AuditSink } from './audit.log';
import { canonicalJson } from './canonical-json.util';
import { assertSafeDetails } from './safe-details.guard';

/**
 * Keeps signed, chained entries in memory, applying the same `assertSafeDetails` guard as `AuditLog`, so a
 * spec can assert what would have been audited without touching the disk.
 * @param identity - signs the entries; `testIdentity('audit/memory')` by default
 * @param now - the clock for `at`
 */
export class MemoryAuditSink implements AuditSink {
  readonly entries: AuditEntry[] = [];

  constructor(
    private readonly identity: Identity = testIdentity('audit/memory'),
    private readonly now: () => Date = () => new Date(),
  ) {}

  append(event: AuditEventName, details: Record<string, AuditValue>): AuditEntry {
    assertSafeDetails(details);
    const previous = this.entries[this.entries.length - 1];
    const entry = sealAuditEntry(
      {
        format: AUDIT_FORMAT,
        seq: this.entries.length,
        at: this.now().toISOString(),
        event,
        details: JSON.parse(canonicalJson(details, 'details')) as Record<string, AuditValue>,
        prevHash: previous ? previous.hash : AUDIT_GENESIS_HASH,
        signer: toBase64(this.identity.signing.publicKey),
      },
      this.identity.signing,
    );
    this.entries.push(entry);
    return entry;
  }

  /** The events appended so far, in order. */
  events(): AuditEventName[] {
    return this.entries.map((entry) => entry.event);
  }
}

/** Refuses every append with `AuditWriteError` (a full disk), to test that callers stop sending. */
export class FailingAuditSink implements AuditSink {
  /** Every refused append, in order. */
  readonly attempted: { event: AuditEventName; details: Record<string, AuditValue> }[] = [];

  /** How many appends were refused. */
  get attempts(): number {
    return this.attempted.length;
  }

  append(event: AuditEventName, details: Record<string, AuditValue>): AuditEntry {
    this.attempted.push({ event, details });
    throw new AuditWriteError(`cannot write audit entry (${event}): ENOSPC (FailingAuditSink)`);
  }
}

/** The node-side events of `writeRealisticAuditLog`, in order (20 entries). */
export const REALISTIC_AUDIT_EVENTS: readonly [AuditEventName, Record<string, AuditValue>][] = [
  ['node.started', { nodeId: 'st-gallen', version: '0.1.0' }],
  ['config.loaded', { configSha256: '1'.repeat(64), policySha256: '2'.repeat(64) }],
  ['message.sent', { kind: 'hello', studyId: null, round: null, bytes: 412, sha256: 'a0'.repeat(32), recipient: 'coordinator' }],
  ['message.received', { kind: 'welcome', studyId: null, bytes: 380, sender: 'coordinator' }],
  ['manifest.approved', { studyId: 'heart-lr', manifestSha256: '3'.repeat(64), by: 'dr.meier' }],
  ['manifest.declined', { studyId: 'heart-mlp', manifestSha256: '4'.repeat(64), by: 'policy', reason: 'MODEL_FAMILY_NOT_ALLOWED' }],
  ['round.joined', { studyId: 'heart-lr', round: 1 }],
  ['message.received', { kind: 'train-task', studyId: 'heart-lr', round: 1, bytes: 2600, sender: 'coordinator' }],
  ['privacy.spent', { studyId: 'heart-lr', round: 1, epsilonAfter: 0.62, totalAfter: 0.62, delta: 0.00001, epsilonLimit: 4 }],
  ['message.sent', { kind: 'train-result', studyId: 'heart-lr', round: 1, bytes: 1804, sha256: 'a1'.repeat(32), recipient: 'coordinator' }],
  ['receipt.stored', { studyId: 'heart-lr', round: 1, frameSha256: 'a1'.repeat(32), matchesSentFrame: true }],
  ['task.refused', { studyId: 'heart-mlp', round: 1, reason: 'MODEL_FAMILY_NOT_ALLOWED' }],
  ['round.joined', { studyId: 'heart-lr', round: 2 }],
  ['message.received', { kind: 'train-task', studyId: 'heart-lr', round: 2, bytes: 2600, sender: 'coordinator' }],
  ['privacy.spent', { studyId: 'heart-lr', round: 2, epsilonAfter: 0.91, totalAfter: 0.91, delta: 0.00001, epsilonLimit: 4 }],
  ['message.sent', { kind: 'train-result', studyId: 'heart-lr', round: 2, bytes: 1804, sha256: 'a2'.repeat(32), recipient: 'coordinator' }],
  ['receipt.stored', { studyId: 'heart-lr', round: 2, frameSha256: 'a2'.repeat(32), matchesSentFrame: true }],
  ['input.rejected', { code: 'REPLAYED', kind: 'train-task', studyId: 'heart-lr' }],
  ['message.sent', { kind: 'evaluate-result', studyId: 'heart-lr', round: 3, bytes: 512, sha256: 'a3'.repeat(32), recipient: 'coordinator' }],
  ['node.stopped', { reason: 'SIGTERM' }],
];

/** Start time of `writeRealisticAuditLog`; entry i is at this time plus i minutes. */
export const REALISTIC_AUDIT_START = new Date('2025-03-01T08:00:00.000Z');

/**
 * Writes `REALISTIC_AUDIT_EVENTS` (a node joining two rounds of one study, declining another) to a new
 * audit log at `path`, entry i at `REALISTIC_AUDIT_START` + i minutes, and returns the entries.
 * @param identity - signs the log; `testIdentity('audit/st-gallen')` by default
 */
export function writeRealisticAuditLog(path: string, identity: Identity = testIdentity('audit/st-gallen')): AuditEntry[] {
  let minute = 0;
  const log = AuditLog.open(path, identity, { now: () => new Date(REALISTIC_AUDIT_START.getTime() + 60_000 * minute++) });
  try {
    return REALISTIC_AUDIT_EVENTS.map(([event, details]) => log.append(event, details));
  } finally {
    log.close();
  }
}
