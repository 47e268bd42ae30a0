import { ReceiptBody, verifySignedStatement, ProtocolError } from '@medfed/protocol';
import type { AuditEntry } from './audit-entry.model';

/** One frame the coordinator says it accepted from a site (its `/api/audit/sites/:id` answer). */
export interface CoordinatorClaim {
  studyId: string;
  round: number;
  kind: string;
  sha256: string;
  bytes: number;
}

/** A disagreement between a site's records and the coordinator's claims. */
export interface ReconcileProblem {
  problem:
    | 'claim-not-sent' // the coordinator claims a frame this site never sent
    | 'claim-without-receipt' // the site sent it, but holds no receipt for it
    | 'receipt-not-claimed' // the coordinator signed a receipt for a contribution it no longer claims
    | 'bad-receipt'; // a stored receipt does not verify under the coordinator's key
  sha256: string;
  detail: string;
}

/** What reconciling found; `ok` only when every claim and every receipt agree. */
export interface ReconcileResult {
  ok: boolean;
  claims: number;
  receiptsVerified: number;
  problems: ReconcileProblem[];
}

/**
 * Checks the coordinator's account of a site against the site's own evidence: its audit log (what it
 * sent, by SHA-256 of the exact bytes) and the receipts the coordinator signed. A claim the site's
 * log does not show is contradicted; a signed receipt the coordinator does not claim exposes a
 * dropped contribution. Receipts are verified against the coordinator's pinned Ed25519 key.
 * @param nodeLog the site's audit entries (readAuditLog; verify the log first).
 * @param receiptFrames the signed receipt frames the site kept (base64), e.g. from receipts.jsonl.
 */
export function reconcileWithCoordinator(
  nodeLog: readonly AuditEntry[],
  receiptFrames: readonly string[],
  claims: readonly CoordinatorClaim[],
  coordinatorSigningKey: string,
): ReconcileResult {
  const problems: ReconcileProblem[] = [];
  const sent = new Set(nodeLog.filter((e) => e.event === 'message.sent').map((e) => String(e.details['sha256'])));
  const receipted = new Map<string, ReceiptBody>();
  for (const encoded of receiptFrames) {
    try {
      const { body } = verifySignedStatement<ReceiptBody>(Buffer.from(encoded, 'base64'), coordinatorSigningKey);
      receipted.set(body.frameSha256, body);
    } catch (err) {
      const why = err instanceof ProtocolError ? err.code : 'MALFORMED';
      problems.push({ problem: 'bad-receipt', sha256: '', detail: `a stored receipt does not verify (${why})` });
    }
  }
  const claimed = new Set<string>();
  for (const claim of claims) {
    claimed.add(claim.sha256);
    if (!sent.has(claim.sha256)) {
      problems.push({ problem: 'claim-not-sent', sha256: claim.sha256, detail: `the coordinator claims a ${claim.kind} for study ${claim.studyId} round ${claim.round} that this site never sent` });
    } else if (!receipted.has(claim.sha256)) {
      problems.push({ problem: 'claim-without-receipt', sha256: claim.sha256, detail: `sent, but no signed receipt is held for study ${claim.studyId} round ${claim.round}` });
    }
  }
  for (const [sha, body] of receipted) {
    if (!claimed.has(sha)) {
      problems.push({ problem: 'receipt-not-claimed', sha256: sha, detail: `the coordinator receipted this site's contribution to study ${body.studyId} round ${body.round} but does not claim it` });
    }
  }
  return { ok: problems.length === 0, claims: claims.length, receiptsVerified: receipted.size, problems };
}
