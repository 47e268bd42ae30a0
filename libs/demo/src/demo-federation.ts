import { readFileSync } from 'node:fs';
import { AdminClient, RunningCoordinator } from '@medfed/coordinator-api';
import { EngineEvent, EvaluationMetrics, TrainingMetrics } from '@medfed/coordinator-core';
import { NodeProcess } from './node-processes';

/** The demo failed; says at which step and where to look. */
export class DemoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoError';
  }
}

/** Rounds a figure to 4 decimals for the summary (null stays null). */
export const round4 = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10000) / 10000);

/** Waits until every node process is connected and authenticated, or names the one that died. */
export async function waitForNodes(admin: AdminClient, nodes: readonly NodeProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = nodes.find((n) => n.child.exitCode !== null);
    if (dead) throw new DemoError(`node ${dead.name} exited with code ${dead.child.exitCode} before connecting; see ${dead.logPath}`);
    const connected = (await admin.listNodes()).filter((n) => n.connected).length;
    if (connected === nodes.length) return;
    if (Date.now() > deadline) throw new DemoError(`only ${connected} of ${nodes.length} nodes connected within ${timeoutMs / 1000} s; see the logs folder`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What a node process logged about itself at start: its backend and the size of its training split. */
export function readNodeFacts(logPath: string): { backend?: string; trainExamples?: number } {
  const facts: { backend?: string; trainExamples?: number } = {};
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { event?: string; backend?: string; trainExamples?: number; train?: number };
      if (entry.event === 'node.starting' && entry.backend) facts.backend = entry.backend;
      if (entry.event === 'data.loaded' && typeof (entry.trainExamples ?? entry.train) === 'number') facts.trainExamples = entry.trainExamples ?? entry.train;
    } catch {
      // A line cut short by a killed process is not a record; skip it.
      continue;
    }
  }
  return facts;
}

/** Every byte a node put on the wire, from its own log of the frames it sent (optionally: for one study, plus its hellos). */
export function bytesSentFromLog(logPath: string, studyId?: string): number {
  let total = 0;
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { event?: string; bytes?: number; studyId?: string | null };
      if (studyId !== undefined && entry.studyId !== studyId && entry.studyId !== null) continue;
      if (entry.event === 'frame.sent' && typeof entry.bytes === 'number') total += entry.bytes;
    } catch {
      // A line cut short by a killed process is not a frame record; skip it.
      continue;
    }
  }
  return total;
}

/**
 * Follows one study's engine events until it completes (resolves) or fails (rejects with a DemoError):
 * each train round's weighted loss and each evaluate round's metrics go to the callbacks; failed rounds are printed.
 */
export function watchStudyRounds(
  running: RunningCoordinator,
  studyId: string,
  print: (line: string) => void,
  onEvaluated: (round: number, metrics: EvaluationMetrics, trainLoss: number | null) => void,
  onTrained?: (round: number, trainLoss: number | null) => void,
): Promise<void> {
  return new Promise((resolveDone, rejectDone) => {
    let trainLoss: number | null = null;
    const onEvent = (event: EngineEvent): void => {
      if (event.studyId !== studyId) return;
      if (event.type === 'round-completed' && event.kind === 'train') {
        trainLoss = (event.metrics as unknown as TrainingMetrics).weightedMeanLoss;
        onTrained?.(event.round, trainLoss);
      } else if (event.type === 'round-completed' && event.kind === 'evaluate') {
        onEvaluated(event.round, event.metrics as unknown as EvaluationMetrics, trainLoss);
      } else if (event.type === 'round-failed') {
        print(`round ${event.round} (${event.kind}) failed: ${event.reason}`);
      } else if (event.type === 'study-completed') {
        running.coordinator.engine.off('event', onEvent);
        resolveDone();
      } else if (event.type === 'study-failed') {
        running.coordinator.engine.off('event', onEvent);
        rejectDone(new DemoError(`the study failed: ${event.reason}`));
      }
    };
    running.coordinator.engine.on('event', onEvent);
  });
}
