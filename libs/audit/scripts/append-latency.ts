// Measures AuditLog.append latency (write + fdatasync per entry), reopen time and verify throughput.
// Usage: node -r @swc-node/register libs/audit/scripts/append-latency.ts [dir] [count]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity } from '@medfed/crypto';
import { AuditLog, verifyAuditLog } from '@medfed/audit';

const dir = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'medfed-audit-bench-'));
const count = Number(process.argv[3] ?? 2000);
const path = join(dir, 'audit.jsonl');
const identity = generateIdentity();
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

try {
  const log = AuditLog.open(path, identity);
  const micros: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const start = process.hrtime.bigint();
    log.append('message.sent', { kind: 'train-result', studyId: 'heart-lr', round: i, bytes: 1804, sha256: 'ab'.repeat(32), recipient: 'coordinator' });
    micros.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  log.close();
  micros.sort((a, b) => a - b);
  const reopenStart = process.hrtime.bigint();
  AuditLog.open(path, identity).close();
  const reopenMs = Number(process.hrtime.bigint() - reopenStart) / 1e6;
  const verifyStart = process.hrtime.bigint();
  const result = verifyAuditLog(path);
  const verifyMs = Number(process.hrtime.bigint() - verifyStart) / 1e6;
  console.log(
    JSON.stringify({
      entries: count,
      fileBytes: statSync(path).size,
      appendMicros: { median: percentile(micros, 50), p99: percentile(micros, 99), max: micros[micros.length - 1] },
      reopenMs,
      verify: { ok: result.ok, ms: verifyMs, entriesPerSecond: Math.round(count / (verifyMs / 1000)) },
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
