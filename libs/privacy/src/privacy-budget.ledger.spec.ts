import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BudgetExceededError, LedgerCorruptError } from './privacy.errors';
import { PrivacyBudgetLedger } from './privacy-budget.ledger';
import { DpSettings, PrivacyAccountant, STANDARD_ORDERS } from './rdp.accountant';

describe('PrivacyBudgetLedger', () => {
  let dir: string;
  let path: string;
  // q = 1 Gaussian rounds: k rounds at z compose exactly like one round at z/√k.
  const settings: DpSettings = { noiseMultiplier: 4, clipNorm: 1, samplingRate: 1, delta: 1e-5, rounds: 10, noisePlacement: 'central' };
  const delta = 1e-5;
  const epsAfter = (rounds: number): number => new PrivacyAccountant({ ...settings, rounds }).totalEpsilon();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-ledger-'));
    path = join(dir, 'state', 'privacy-ledger.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts empty when the file does not exist', () => {
    const ledger = PrivacyBudgetLedger.open(path, { maxEpsilonPerStudy: 5, maxEpsilonTotal: 10, delta });

    expect(ledger.spent()).toBe(0);
    expect(ledger.spent('s1')).toBe(0);
  });

  it('composes a study’s rounds in RDP space, not by adding per-round ε', () => {
    const ledger = PrivacyBudgetLedger.open(path, { maxEpsilonPerStudy: 100, maxEpsilonTotal: 100, delta });
    const oneRound = new PrivacyAccountant({ ...settings, noiseMultiplier: 2, rounds: 1 }).totalEpsilon();

    for (let r = 1; r <= 4; r++) ledger.record('s1', r, settings);

    // Four rounds at z = 4 equal one round at z = 4/√4 = 2.
    expect(ledger.spent('s1')).toBeCloseTo(oneRound, 10);
    expect(ledger.spent('s1')).toBeLessThan(4 * epsAfter(1));
  });

  it('a node at its per-study limit declines the next round and record throws without recording', () => {
    const limit = (epsAfter(2) + epsAfter(3)) / 2;
    const ledger = PrivacyBudgetLedger.open(path, { maxEpsilonPerStudy: limit, maxEpsilonTotal: 100, delta });
    ledger.record('s1', 1, settings);
    ledger.record('s1', 2, settings);
    const fileBefore = readFileSync(path, 'utf8');

    const verdict = ledger.check('s1', settings);

    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toMatch(/study s1 .*per-study limit/);
    expect(verdict.epsilonAfter).toBeCloseTo(epsAfter(3), 10);
    expect(() => ledger.record('s1', 3, settings)).toThrow(BudgetExceededError);
    expect(ledger.spent('s1')).toBeCloseTo(epsAfter(2), 10);
    expect(readFileSync(path, 'utf8')).toBe(fileBefore);
  });

  it('sums ε across studies (basic composition) and enforces the total limit', () => {
    const limit = epsAfter(1) * 2.5;
    const ledger = PrivacyBudgetLedger.open(path, { maxEpsilonPerStudy: 100, maxEpsilonTotal: limit, delta });
    ledger.record('a', 1, settings);
    ledger.record('b', 1, settings);

    const verdict = ledger.check('c', settings);

    expect(ledger.spent()).toBeCloseTo(2 * epsAfter(1), 10);
    expect(verdict.allowed).toBe(false);
    expect(verdict.totalAfter).toBeCloseTo(3 * epsAfter(1), 10);
    expect(verdict.reason).toMatch(/total limit/);
    expect(() => ledger.record('c', 1, settings)).toThrow(BudgetExceededError);
  });

  it('a restarted node (file reopened) remembers what it spent and keeps composing', () => {
    const limits = { maxEpsilonPerStudy: 100, maxEpsilonTotal: 100, delta };
    const first = PrivacyBudgetLedger.open(path, limits);
    first.record('s1', 1, settings);
    first.record('s2', 1, settings);

    const reopened = PrivacyBudgetLedger.open(path, limits);
    reopened.record('s1', 2, settings);

    expect(reopened.spent('s1')).toBeCloseTo(epsAfter(2), 10);
    expect(reopened.spent('s2')).toBeCloseTo(epsAfter(1), 10);
    expect(PrivacyBudgetLedger.open(path, limits).spent()).toBeCloseTo(epsAfter(2) + epsAfter(1), 10);
    // Atomic write: only the ledger is left in the folder, no temp files.
    expect(readdirSync(join(dir, 'state'))).toEqual(['privacy-ledger.json']);
  });

  it.each([
    ['not JSON', '{"format": "medfed-privacy-ledger", '],
    ['the wrong shape', JSON.stringify({ format: 'medfed-privacy-ledger', version: 1, orders: [2], studies: {} })],
    ['a study with a bad rdp list', JSON.stringify({ format: 'medfed-privacy-ledger', version: 1, orders: STANDARD_ORDERS, studies: { s: { rdp: 'x', rounds: [] } } })],
  ])('refuses a corrupt ledger (%s) with an error naming the path, and never resets it', (_label, content) => {
    const file = join(dir, 'ledger.json');
    writeFileSync(file, content);

    expect(() => PrivacyBudgetLedger.open(file, { maxEpsilonPerStudy: 1, maxEpsilonTotal: 1, delta })).toThrow(LedgerCorruptError);
    expect(() => PrivacyBudgetLedger.open(file, { maxEpsilonPerStudy: 1, maxEpsilonTotal: 1, delta })).toThrow(file);
    expect(readFileSync(file, 'utf8')).toBe(content);
  });
});
