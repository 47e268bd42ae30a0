import { AuditWriteError } from './audit-entry.model';
import { assertSafeDetails } from './safe-details.guard';

/** One Fed-Heart-Disease row: 13 features (age, sex, cp, trestbps, chol, fbs, restecg, thalach, exang, oldpeak, slope, ca, thal). */
const heartRow = [63, 1, 1, 145, 233, 1, 2, 150, 0, 2.3, 3, 0, 6];

describe('assertSafeDetails', () => {
  it.each([
    ['a 13-value feature array under "features"', { features: heartRow }, /details\.features: key "features" names raw data/],
    ['a 13-value feature array under a harmless key', { sample: heartRow }, /details\.sample: array of 13 numbers \(limit 8\)/],
    ['a weights key, whatever its value', { weights: 'sha256:abc' }, /details\.weights: key "weights" names raw data/],
    ['raw-data keys in any case or separator, nested', { metrics: { Raw_Rows: 3 } }, /details\.metrics\.Raw_Rows: key "Raw_Rows"/],
    ['x and y', { x: 1 }, /key "x" names raw data/],
    ['an array of 65 ids', { participants: Array.from({ length: 65 }, (_, i) => `node-${i}`) }, /details\.participants: array of 65 elements \(limit 64\)/],
    ['a string of 513 characters', { note: 'a'.repeat(513) }, /details\.note: string of 513 characters \(limit 512\)/],
    ['NaN', { loss: Number.NaN }, /details\.loss: non-finite number/],
    ['a Date instance', { when: new Date(0) as unknown as string }, /details\.when: not a JSON value/],
    ['undefined', { gone: undefined as unknown as null }, /details\.gone: not a JSON value \(undefined\)/],
    ['nesting 8 deep', { a: { b: { c: { d: { e: { f: { g: { h: 1 } } } } } } } }, /nested deeper than 6 levels/],
    ['details over 8 KiB', Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'.repeat(500)])), /characters of JSON \(limit 8192\)/],
  ])('refuses %s, naming the key and not the value', (_, details, message) => {
    const act = () => assertSafeDetails(details as Parameters<typeof assertSafeDetails>[0]);
    expect(act).toThrow(AuditWriteError);
    expect(act).toThrow(message);
    try {
      act();
    } catch (error) {
      // Never echo the refused content: 233 (cholesterol) must not appear in the message.
      expect((error as Error).message).not.toContain('233');
    }
  });

  it('accepts the metadata the node and the coordinator log', () => {
    expect(() =>
      assertSafeDetails({
        kind: 'train-result',
        studyId: 'heart-lr',
        round: 3,
        bytes: 1804,
        sha256: 'ab'.repeat(32),
        recipient: 'coordinator',
        numExamples: 199,
        epsilon: 0.5,
        delta: 1e-5,
        confusion: [40, 5, 7, 48],
        participants: Array.from({ length: 64 }, (_, i) => `node-${i}`),
        weightsSha256: 'cd'.repeat(32),
        numFeatures: 13,
        note: 'n'.repeat(512),
      }),
    ).not.toThrow();
  });
});
