import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root, where bin/medfed.js lives. */
export const REPO_ROOT = resolve(__dirname, '../../..');

/** A hospital node running as its own OS process, as it would on a hospital server. */
export interface NodeProcess {
  name: string;
  child: ChildProcess;
  logPath: string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

/** Starts `medfed node start --config <config>` as a child process, its output going to a log file. */
export function spawnNodeProcess(name: string, configPath: string, logDir: string): NodeProcess {
  const logPath = join(logDir, `${name}.log`);
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/medfed.js'), 'node', 'start', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MEDFED_LOG_FORMAT: 'json' },
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { name, child, logPath, exited };
}

/** Asks each process to stop (SIGTERM), and kills those that do not within `graceMs`. */
export async function stopNodeProcesses(nodes: readonly NodeProcess[], graceMs = 5000): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      if (node.child.exitCode !== null || node.child.signalCode !== null) return;
      node.child.kill('SIGTERM');
      const timer = setTimeout(() => node.child.kill('SIGKILL'), graceMs);
      await node.exited;
      clearTimeout(timer);
    }),
  );
}
