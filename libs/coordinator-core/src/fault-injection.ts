import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { FaultPhase } from './round-engine';
import type { RoundKind } from '@medfed/coordinator-store';

/**
 * Fault injection for crash-resume tests, and only for them: when MEDFED_FAULT_FILE names a file of
 * lines `phase kind round` (e.g. `aggregating train 3`), the coordinator kills itself with SIGKILL —
 * no cleanup, as a power cut would — the first time it reaches that point, after striking the line
 * out so that the restarted process goes past it. Without the variable this returns undefined and
 * the engine runs no hook at all.
 */
export function faultPointFromEnv(env: NodeJS.ProcessEnv = process.env): ((phase: FaultPhase, studyId: string, round: number, kind: RoundKind) => void) | undefined {
  const file = env['MEDFED_FAULT_FILE'];
  if (!file) return undefined;
  return (phase, _studyId, round, kind) => {
    if (!existsSync(file)) return;
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim().length > 0);
    const hit = lines.findIndex((l) => l.trim() === `${phase} ${kind} ${round}`);
    if (hit < 0) return;
    lines.splice(hit, 1);
    writeFileSync(file, lines.join('\n') + (lines.length ? '\n' : ''));
    process.kill(process.pid, 'SIGKILL');
  };
}
