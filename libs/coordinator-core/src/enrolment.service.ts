import { fromBase64, keyFingerprint, randomBytes, sha256Hex, toBase64, ED25519_PUBLIC_KEY_BYTES, X25519_KEY_BYTES } from '@medfed/crypto';
import { CoordinatorStore, NodeRecord } from '@medfed/coordinator-store';
import { CoordinatorError } from './coordinator-errors';
import { CoordinatorLogger } from './coordinator-logger';
import { AuditSink } from '@medfed/audit';

/** Bytes of randomness in a one-time enrolment token. */
export const ENROLMENT_TOKEN_BYTES = 32;

/**
 * Which hospital keys may connect. A node is accepted only if its Ed25519 public key is on the
 * allow-list (enrolled by an operator) or it presents an unused, unexpired one-time token; the
 * token itself is never stored, only its SHA-256.
 */
export class EnrolmentService {
  constructor(
    private readonly store: CoordinatorStore,
    private readonly logger: CoordinatorLogger,
    private readonly now: () => number = Date.now,
    private readonly audit: AuditSink | null = null,
  ) {}

  /** Puts a node's public keys on the allow-list (idempotent for the same key; renames it). */
  enrol(input: { name: string; signingPublicKey: string; encryptionPublicKey?: string | null }): NodeRecord {
    let signingKey: Uint8Array;
    try {
      signingKey = fromBase64(input.signingPublicKey, ED25519_PUBLIC_KEY_BYTES);
      if (input.encryptionPublicKey) fromBase64(input.encryptionPublicKey, X25519_KEY_BYTES);
    } catch (err) {
      throw new CoordinatorError('INVALID_ENROLMENT', `node ${input.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const id = keyFingerprint(signingKey);
    const existing = this.store.getNode(id);
    const record: NodeRecord = {
      id,
      name: input.name,
      signingPublicKey: input.signingPublicKey,
      encryptionPublicKey: input.encryptionPublicKey ?? existing?.encryptionPublicKey ?? null,
      status: 'enrolled',
      enrolledAt: existing?.enrolledAt ?? this.now(),
      lastSeenAt: existing?.lastSeenAt ?? null,
    };
    this.store.upsertNode(record);
    this.audit?.append('enrolment', { action: 'enrolled', nodeId: id, name: input.name });
    this.logger.info('node.enrolled', { nodeId: id, name: input.name });
    return record;
  }

  /** Takes a node off the allow-list; its next message is refused. */
  revoke(nodeId: string): NodeRecord {
    const node = this.store.getNode(nodeId);
    if (!node) throw new CoordinatorError('NOT_ENROLLED', `no node with id ${nodeId}`);
    const revoked = { ...node, status: 'revoked' as const };
    this.store.upsertNode(revoked);
    this.audit?.append('enrolment', { action: 'revoked', nodeId });
    this.logger.warn('node.revoked', { nodeId });
    return revoked;
  }

  /** Issues a one-time enrolment token for a named site; returns the token (shown once). */
  createToken(name: string, ttlSeconds: number): { token: string; expiresAt: number } {
    const token = toBase64(randomBytes(ENROLMENT_TOKEN_BYTES));
    const createdAt = this.now();
    const expiresAt = createdAt + ttlSeconds * 1000;
    this.store.addEnrolmentToken({ tokenHash: sha256Hex(Buffer.from(token, 'utf8')), name, createdAt, expiresAt, usedAt: null, usedByNodeId: null });
    this.logger.info('enrolment-token.created', { name, expiresAt });
    return { token, expiresAt };
  }

  /**
   * Enrols the key that presented `token`, if the token is valid; the token is spent either way
   * it is used. Returns the node, or throws NOT_ENROLLED.
   */
  enrolWithToken(token: string, name: string, signingPublicKey: string, encryptionPublicKey: string): NodeRecord {
    const id = keyFingerprint(fromBase64(signingPublicKey, ED25519_PUBLIC_KEY_BYTES));
    const spent = this.store.consumeEnrolmentToken(sha256Hex(Buffer.from(token, 'utf8')), id, this.now());
    if (!spent) throw new CoordinatorError('NOT_ENROLLED', 'the enrolment token is unknown, already used or expired');
    return this.enrol({ name, signingPublicKey, encryptionPublicKey });
  }
}
