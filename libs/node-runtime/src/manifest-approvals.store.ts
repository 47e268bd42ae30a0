import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StudyManifest, manifestSha256 } from '@medfed/protocol';

/** One approval (or revocation) of a manifest, as the hospital's operator or local policy gave it. */
export interface ApprovalRecord {
  manifestSha256: string;
  studyId: string;
  decision: 'approved' | 'revoked';
  at: string;
  /** Who decided: an operator's name, or `policy` for a local auto-approval rule. */
  by: string;
  manifest: StudyManifest;
}

/** A manifest a task arrived with that nobody has approved yet, kept for the operator to review. */
export interface PendingManifest {
  manifestSha256: string;
  manifest: StudyManifest;
}

/** The approvals file is unreadable; names the path (never silently reset). */
export class ApprovalsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalsFileError';
  }
}

/**
 * Which study manifests this hospital approved, in its state folder: `approvals.json` (every decision,
 * in order; the latest per hash wins) and `manifests/pending/<sha256>.json` (seen, not decided). The
 * operator's CLI writes decisions; the node reads them before every task, so an approval or a
 * revocation takes effect at the next task without a restart.
 */
export class ManifestApprovals {
  private readonly file: string;
  private readonly pendingDir: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'approvals.json');
    this.pendingDir = join(stateDir, 'manifests', 'pending');
  }

  /** Every decision, oldest first. */
  decisions(): ApprovalRecord[] {
    if (!existsSync(this.file)) return [];
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as { decisions?: ApprovalRecord[] };
      if (!Array.isArray(parsed.decisions)) throw new Error('no "decisions" list');
      return parsed.decisions;
    } catch (err) {
      throw new ApprovalsFileError(`approvals file ${this.file} is unreadable: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The current decision for a manifest hash, or null if none. */
  decisionFor(sha: string): ApprovalRecord | null {
    const all = this.decisions().filter((d) => d.manifestSha256 === sha);
    return all.length ? all[all.length - 1] : null;
  }

  isApproved(sha: string): boolean {
    return this.decisionFor(sha)?.decision === 'approved';
  }

  /** Records an approval of exactly this manifest. */
  approve(manifest: StudyManifest, by: string): ApprovalRecord {
    return this.decide(manifest, 'approved', by);
  }

  /** Revokes a manifest: the node declines its tasks from then on. */
  revoke(sha: string, by: string): ApprovalRecord {
    const current = this.decisionFor(sha) ?? (this.pending(sha) ? { manifest: (this.pending(sha) as PendingManifest).manifest } : null);
    if (!current) throw new ApprovalsFileError(`no manifest ${sha} is known to this node`);
    return this.decide(current.manifest, 'revoked', by);
  }

  /** Keeps a manifest seen in a task for the operator to review. */
  rememberPending(manifest: StudyManifest): string {
    const sha = manifestSha256(manifest);
    mkdirSync(this.pendingDir, { recursive: true });
    const path = join(this.pendingDir, `${sha}.json`);
    if (!existsSync(path)) writeFileSync(path, JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
    return sha;
  }

  /** A pending manifest by hash (or a unique prefix of it). */
  pending(shaOrPrefix: string): PendingManifest | null {
    const match = this.listPending().filter((p) => p.manifestSha256.startsWith(shaOrPrefix));
    return match.length === 1 ? match[0] : null;
  }

  listPending(): PendingManifest[] {
    if (!existsSync(this.pendingDir)) return [];
    const decided = new Set(this.decisions().map((d) => d.manifestSha256));
    return readdirSync(this.pendingDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .filter((sha) => !decided.has(sha))
      .map((sha) => ({ manifestSha256: sha, manifest: JSON.parse(readFileSync(join(this.pendingDir, `${sha}.json`), 'utf8')) as StudyManifest }));
  }

  private decide(manifest: StudyManifest, decision: ApprovalRecord['decision'], by: string): ApprovalRecord {
    const record: ApprovalRecord = {
      manifestSha256: manifestSha256(manifest),
      studyId: manifest.studyId,
      decision,
      at: new Date().toISOString(),
      by,
      manifest,
    };
    const decisions = [...this.decisions(), record];
    mkdirSync(join(this.file, '..'), { recursive: true });
    writeFileSync(`${this.file}.tmp`, JSON.stringify({ decisions }, null, 2) + '\n', { mode: 0o600 });
    renameSync(`${this.file}.tmp`, this.file);
    return record;
  }
}
