import { ReplayGuard } from './replay-guard';

describe('ReplayGuard', () => {
  const T0 = 1_700_000_000_000;

  it('accepts a nonce once per sender', () => {
    const guard = new ReplayGuard(60_000);

    expect(guard.checkAndRemember('alice', 'n1', T0, T0)).toBe(true);
    expect(guard.checkAndRemember('alice', 'n1', T0, T0 + 1)).toBe(false);
    expect(guard.checkAndRemember('bob', 'n1', T0, T0 + 1)).toBe(true);
  });

  it('keeps ("a|b","c") apart from ("a","b|c")', () => {
    const guard = new ReplayGuard(60_000);

    expect(guard.checkAndRemember('a|b', 'c', T0, T0)).toBe(true);
    expect(guard.checkAndRemember('a', 'b|c', T0, T0)).toBe(true);
  });

  it('isFresh answers like checkAndRemember without recording', () => {
    const guard = new ReplayGuard(60_000);

    expect(guard.isFresh('alice', 'n1', T0, T0)).toBe(true);
    expect(guard.isFresh('alice', 'n1', T0, T0)).toBe(true);
    expect(guard.size).toBe(0);
  });

  it('refuses nonces older than the window', () => {
    const guard = new ReplayGuard(60_000);

    expect(guard.checkAndRemember('alice', 'old', T0 - 60_001, T0)).toBe(false);
    expect(guard.checkAndRemember('alice', 'edge', T0 - 60_000, T0)).toBe(true);
  });

  it('forgets entries once they fall out of the window', () => {
    const guard = new ReplayGuard(1000);
    for (let i = 0; i < 50; i++) guard.checkAndRemember('alice', `n${i}`, T0, T0);

    guard.checkAndRemember('alice', 'later', T0 + 5000, T0 + 5000);

    expect(guard.size).toBe(1);
  });

  it('stays within maxEntries and refuses anything at or below the eviction floor', () => {
    // Arrange: 100 entries sent at T0+0 .. T0+99, all inside the window.
    const guard = new ReplayGuard(1_000_000, 100);
    for (let i = 0; i < 100; i++) expect(guard.checkAndRemember('alice', `n${i}`, T0 + i, T0 + 100)).toBe(true);

    // Act: one more forces the oldest tenth (sent at T0+0..T0+9) out.
    const accepted = guard.checkAndRemember('alice', 'n100', T0 + 100, T0 + 100);

    // Assert: memory stays bounded, and an evicted nonce cannot be replayed.
    expect(accepted).toBe(true);
    expect(guard.size).toBeLessThanOrEqual(100);
    expect(guard.checkAndRemember('alice', 'n0', T0, T0 + 100)).toBe(false);
    expect(guard.checkAndRemember('alice', 'new-but-old', T0 + 9, T0 + 100)).toBe(false);
    expect(guard.checkAndRemember('alice', 'new', T0 + 10, T0 + 100)).toBe(true);
  });

  it.each([[0], [-1], [Number.NaN]])('refuses window %p', (windowMs) => {
    expect(() => new ReplayGuard(windowMs)).toThrow(RangeError);
  });

  it('refuses a zero cap', () => {
    expect(() => new ReplayGuard(1000, 0)).toThrow(RangeError);
  });
});
