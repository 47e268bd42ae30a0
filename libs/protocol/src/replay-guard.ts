/**
 * Remembers (sender, nonce) pairs for a time window so that a captured frame cannot be accepted
 * twice. Memory is bounded two ways: entries older than the window are evicted (the envelope codec
 * refuses frames older than its clock-skew limit anyway, so they cannot come back), and when more
 * than `maxEntries` are live the oldest are dropped and a floor is raised: anything sent at or
 * before the floor is then refused, so dropping an entry never re-opens a replay.
 */
export class ReplayGuard {
  /** Default cap on remembered nonces. */
  static readonly DEFAULT_MAX_ENTRIES = 100_000;

  private readonly seen = new Map<string, number>();
  private floorSentAt = Number.NEGATIVE_INFINITY;
  private lastSweepAt = Number.NEGATIVE_INFINITY;

  /**
   * @param windowMs how long a nonce is remembered, relative to its `sentAt`; must be at least the
   *   envelope codec's `maxSkewMs` (the codec checks this).
   * @param maxEntries cap on remembered nonces (default {@link ReplayGuard.DEFAULT_MAX_ENTRIES}).
   * @throws RangeError for a non-positive window or cap.
   */
  constructor(
    readonly windowMs: number,
    readonly maxEntries: number = ReplayGuard.DEFAULT_MAX_ENTRIES,
  ) {
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      throw new RangeError(`ReplayGuard: windowMs must be a positive finite number, got ${windowMs}`);
    }
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`ReplayGuard: maxEntries must be a positive integer, got ${maxEntries}`);
    }
  }

  /** Number of nonces currently remembered. */
  get size(): number {
    return this.seen.size;
  }

  /**
   * Records a nonce if it is new.
   * @param sender the sender's id (base64 signing key).
   * @param nonce the frame's nonce.
   * @param sentAt the frame's claimed send time, epoch ms.
   * @param now the receiver's clock, epoch ms.
   * @returns true if the nonce was new (and is now remembered); false if it was seen before, or is
   *   too old to be judged (older than the window, or at/below the eviction floor).
   */
  checkAndRemember(sender: string, nonce: string, sentAt: number, now: number): boolean {
    if (now - this.lastSweepAt >= this.windowMs) this.sweepExpired(now);
    if (!this.isFresh(sender, nonce, sentAt, now)) return false;
    const key = ReplayGuard.key(sender, nonce);
    if (this.seen.size >= this.maxEntries) {
      this.sweepExpired(now);
      if (this.seen.size >= this.maxEntries) this.evictOldest();
      if (sentAt <= this.floorSentAt) return false;
    }
    this.seen.set(key, sentAt);
    return true;
  }

  /**
   * What {@link checkAndRemember} would answer, without recording anything.
   * @returns true if the nonce is new and recent enough to be judged.
   */
  isFresh(sender: string, nonce: string, sentAt: number, now: number): boolean {
    if (sentAt + this.windowMs < now || sentAt <= this.floorSentAt) return false;
    return !this.seen.has(ReplayGuard.key(sender, nonce));
  }

  // JSON-encoding the pair keeps ("a|b","c") and ("a","b|c") apart.
  private static key(sender: string, nonce: string): string {
    return JSON.stringify([sender, nonce]);
  }

  private sweepExpired(now: number): void {
    this.lastSweepAt = now;
    for (const [key, sentAt] of this.seen) {
      if (sentAt + this.windowMs < now) this.seen.delete(key);
    }
  }

  // Drops the oldest tenth at once so a full guard does not sort on every insert.
  private evictOldest(): void {
    const bySentAt = [...this.seen].sort((a, b) => a[1] - b[1]);
    const drop = Math.max(1, Math.ceil(bySentAt.length / 10));
    for (let i = 0; i < drop; i++) {
      this.seen.delete(bySentAt[i][0]);
      this.floorSentAt = Math.max(this.floorSentAt, bySentAt[i][1]);
    }
  }
}
