import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BudgetExceededError, LedgerCorruptError, PrivacyConfigError } from './privacy.errors';
import { computeRdp, DpSettings, rdpToEpsilon, STANDARD_ORDERS, validateDpSettings } from './rdp.accountant';

/** A node's own privacy limits (local policy, never sent anywhere). */
export interface PrivacyBudgetLimits {
  /** Largest ε any single study may spend on this node's data. */
  maxEpsilonPerStudy: number;
  /** Largest sum of per-study ε over all studies. */
  maxEpsilonTotal: number;
  /** δ at which every study's ε is computed (each study is (ε_s, δ)-DP; overall (Σε_s, n·δ)). */
  delta: number;
}

/** One recorded round, kept for audit. */
interface LedgerRound {
  round: number;
  noiseMultiplier: number;
  samplingRate: number;
  recordedAt: string;
}

interface LedgerStudy {
  /** Summed RDP over recorded rounds, one value per ledger order (Infinity stored as null). */
  rdp: number[];
  rounds: LedgerRound[];
}

interface LedgerState {
  orders: number[];
  studies: Record<string, LedgerStudy>;
}

const FORMAT = 'medfed-privacy-ledger';
const VERSION = 1;

/**
 * Each node's own running privacy budget, per study and overall, persisted as one JSON file.
 *
 * Composition: within a study, rounds compose in RDP space (their RDP at every order is summed, then
 * converted once with {@link rdpToEpsilon} at `limits.delta`), which is much tighter than adding per-round ε.
 * Across studies the per-study ε values are simply added (basic composition: the overall guarantee is
 * (Σ ε_s, Σ δ_s)), because different studies may use different δ and are separate releases.
 *
 * The ε charged is what the settings' sampling rate q buys. Amplification by sampling only holds if who
 * took part stays secret from the adversary; a node that cannot rely on that should record with q = 1.
 * With `split` noise the guarantee covers the sum only (it needs secure aggregation).
 *
 * Writes are atomic (temp file, fsync, rename, fsync of the folder), so a crash leaves the old or the new
 * ledger, never a torn one. A file that cannot be parsed throws {@link LedgerCorruptError} and is never
 * reset. One process per ledger file: concurrent writers are not coordinated.
 */
export class PrivacyBudgetLedger {
  private constructor(
    private readonly path: string,
    private readonly limits: PrivacyBudgetLimits,
    private state: LedgerState,
  ) {}

  /**
   * Opens (or starts, if the file does not exist yet) the ledger at `path`.
   * @param path - the JSON file; created on the first `record`
   * @param limits - the node's budget; validated (`PrivacyConfigError`)
   * @throws LedgerCorruptError when the file exists but is unreadable or malformed
   */
  static open(path: string, limits: PrivacyBudgetLimits): PrivacyBudgetLedger {
    for (const key of ['maxEpsilonPerStudy', 'maxEpsilonTotal'] as const) {
      const v = limits[key];
      if (typeof v !== 'number' || !(v >= 0) || Number.isNaN(v)) throw new PrivacyConfigError(`limits.${key} must be a number ≥ 0, got ${v}`);
    }
    if (!(limits.delta > 0 && limits.delta < 1)) throw new PrivacyConfigError(`limits.delta must be in (0, 1), got ${limits.delta}`);
    let text: string | null;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') text = null;
      else throw new LedgerCorruptError(path, `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    const state = text === null ? { orders: [...STANDARD_ORDERS], studies: {} } : parseLedger(path, text);
    return new PrivacyBudgetLedger(path, { ...limits }, state);
  }

  /**
   * ε spent so far.
   * @param studyId - one study's ε (0 if it never ran here); omitted: the sum over all studies
   */
  spent(studyId?: string): number {
    if (studyId !== undefined) {
      const study = this.state.studies[studyId];
      return study ? this.epsilonOf(study.rdp) : 0;
    }
    return Object.values(this.state.studies).reduce((sum, study) => sum + this.epsilonOf(study.rdp), 0);
  }

  /**
   * Would one more round under `settings` keep this study within `maxEpsilonPerStudy` and all studies within
   * `maxEpsilonTotal`? Nothing is recorded.
   * @returns the study's and the overall ε after that round, and why it is refused (null when allowed)
   */
  check(studyId: string, settings: DpSettings): { allowed: boolean; epsilonAfter: number; totalAfter: number; reason: string | null } {
    assertStudyId(studyId);
    validateDpSettings(settings);
    const before = this.state.studies[studyId];
    const roundRdp = computeRdp(settings.samplingRate, settings.noiseMultiplier, 1, this.state.orders);
    const rdpAfter = roundRdp.map((r, k) => r + (before ? before.rdp[k] : 0));
    const epsilonAfter = this.epsilonOf(rdpAfter);
    const totalAfter = this.spent() - (before ? this.epsilonOf(before.rdp) : 0) + epsilonAfter;
    let reason: string | null = null;
    if (!(epsilonAfter <= this.limits.maxEpsilonPerStudy)) {
      reason = `study ${studyId} would reach ε=${epsilonAfter.toFixed(4)} > per-study limit ${this.limits.maxEpsilonPerStudy}`;
    } else if (!(totalAfter <= this.limits.maxEpsilonTotal)) {
      reason = `all studies would reach ε=${totalAfter.toFixed(4)} > total limit ${this.limits.maxEpsilonTotal}`;
    }
    return { allowed: reason === null, epsilonAfter, totalAfter, reason };
  }

  /**
   * Charges one round to the study and persists the ledger before returning; call it before the noised
   * update leaves the node. A retried round is charged again (each release costs).
   * @throws BudgetExceededError when {@link check} refuses; nothing is recorded or written then
   */
  record(studyId: string, round: number, settings: DpSettings): { epsilonAfter: number; totalAfter: number } {
    if (!Number.isInteger(round) || round < 0) throw new PrivacyConfigError(`round must be a non-negative integer, got ${round}`);
    const verdict = this.check(studyId, settings);
    if (!verdict.allowed) throw new BudgetExceededError(`round ${round} refused: ${verdict.reason}`);
    const before = this.state.studies[studyId];
    const roundRdp = computeRdp(settings.samplingRate, settings.noiseMultiplier, 1, this.state.orders);
    const next: LedgerState = {
      orders: this.state.orders,
      studies: {
        ...this.state.studies,
        [studyId]: {
          rdp: roundRdp.map((r, k) => r + (before ? before.rdp[k] : 0)),
          rounds: [
            ...(before ? before.rounds : []),
            { round, noiseMultiplier: settings.noiseMultiplier, samplingRate: settings.samplingRate, recordedAt: new Date().toISOString() },
          ],
        },
      },
    };
    writeFileAtomic(this.path, serialiseLedger(next));
    // Only a durable write changes what this object reports.
    this.state = next;
    return { epsilonAfter: verdict.epsilonAfter, totalAfter: verdict.totalAfter };
  }

  private epsilonOf(rdp: readonly number[]): number {
    return rdpToEpsilon(this.state.orders, rdp, this.limits.delta).epsilon;
  }
}

function assertStudyId(studyId: string): void {
  if (typeof studyId !== 'string' || studyId.length === 0) throw new PrivacyConfigError(`studyId must be a non-empty string, got ${JSON.stringify(studyId)}`);
}

function serialiseLedger(state: LedgerState): string {
  const studies: Record<string, unknown> = {};
  for (const [id, study] of Object.entries(state.studies)) {
    // JSON has no Infinity; null stands for it.
    studies[id] = { rdp: study.rdp.map((r) => (Number.isFinite(r) ? r : null)), rounds: study.rounds };
  }
  return `${JSON.stringify({ format: FORMAT, version: VERSION, orders: state.orders, studies }, null, 2)}\n`;
}

function parseLedger(path: string, text: string): LedgerState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LedgerCorruptError(path, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const fail = (detail: string): never => {
    throw new LedgerCorruptError(path, detail);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('expected a JSON object');
  const obj = raw as Record<string, unknown>;
  if (obj['format'] !== FORMAT) fail(`"format" must be ${JSON.stringify(FORMAT)}, got ${JSON.stringify(obj['format'])}`);
  if (obj['version'] !== VERSION) fail(`unsupported "version" ${JSON.stringify(obj['version'])}`);
  const orders = obj['orders'];
  if (!Array.isArray(orders) || orders.length !== STANDARD_ORDERS.length || orders.some((o, k) => o !== STANDARD_ORDERS[k])) {
    fail('"orders" differ from the accountant\'s standard orders');
  }
  const studiesRaw = obj['studies'];
  if (typeof studiesRaw !== 'object' || studiesRaw === null || Array.isArray(studiesRaw)) fail('"studies" must be an object');
  const studies: Record<string, LedgerStudy> = {};
  for (const [id, value] of Object.entries(studiesRaw as Record<string, unknown>)) {
    const s = value as Record<string, unknown> | null;
    if (typeof s !== 'object' || s === null) fail(`study ${JSON.stringify(id)} must be an object`);
    const rdp = (s as Record<string, unknown>)['rdp'];
    if (!Array.isArray(rdp) || rdp.length !== STANDARD_ORDERS.length || rdp.some((r) => r !== null && !(typeof r === 'number' && r >= 0))) {
      fail(`study ${JSON.stringify(id)} has a malformed "rdp" list`);
    }
    const rounds = (s as Record<string, unknown>)['rounds'];
    if (
      !Array.isArray(rounds) ||
      rounds.some(
        (r) =>
          typeof r !== 'object' ||
          r === null ||
          !Number.isInteger((r as LedgerRound).round) ||
          typeof (r as LedgerRound).noiseMultiplier !== 'number' ||
          typeof (r as LedgerRound).samplingRate !== 'number' ||
          typeof (r as LedgerRound).recordedAt !== 'string',
      )
    ) {
      fail(`study ${JSON.stringify(id)} has a malformed "rounds" list`);
    }
    studies[id] = { rdp: (rdp as (number | null)[]).map((r) => (r === null ? Infinity : r)), rounds: rounds as LedgerRound[] };
  }
  return { orders: [...STANDARD_ORDERS], studies };
}

/** Replaces `path` with `text` so that a crash at any point leaves either the old or the new content. */
function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const bytes = Buffer.from(text, 'utf8');
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  // The rename is durable only once the folder entry is on disk; Windows cannot open a folder for fsync.
  if (process.platform !== 'win32') {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}
