import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { AdminClient, initCoordinator } from '@medfed/coordinator-api';
import { HEART_DISEASE_CENTERS } from '@medfed/data';
import { REPO_ROOT } from '@medfed/demo';
import { ManifestApprovals, approveSignedManifest, initNode } from '@medfed/node-runtime';

const MEDFED = join(REPO_ROOT, 'bin', 'medfed.js');
const DATA = join(REPO_ROOT, 'data', 'fed-heart-disease');

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A federation of real processes for fault tests: a coordinator process that is started again
 * whenever it dies (as systemd would), and one process per hospital.
 */
export class ProcessFederation {
  admin!: AdminClient;
  coordinatorStarts = 0;
  private coordinator: ChildProcess | null = null;
  private stopped = false;
  private configPath = '';
  private coordinatorKey = '';
  readonly nodes = new Map<string, ChildProcess>();
  private readonly nodeConfigs = new Map<string, string>();

  constructor(
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  async start(nodeEnv: (center: string) => NodeJS.ProcessEnv = () => ({})): Promise<void> {
    const port = await freePort();
    const made = initCoordinator(join(this.dir, 'coordinator'), { port });
    this.configPath = made.configPath;
    this.coordinatorKey = made.signingPublicKey;
    this.admin = new AdminClient(`http://127.0.0.1:${port}`, made.adminToken);
    this.startCoordinator();
    await until(async () => (await this.admin.health().catch(() => null)) !== null, 60_000, 'coordinator up');
    for (const center of HEART_DISEASE_CENTERS) {
      const node = initNode(join(this.dir, center), {
        name: center,
        coordinatorUrl: `http://127.0.0.1:${port}`,
        coordinatorSigningPublicKey: made.signingPublicKey,
        dataPath: DATA,
        center,
      });
      // Come back quickly after a coordinator restart.
      const config = JSON.parse(readFileSync(node.configPath, 'utf8')) as Record<string, unknown>;
      writeFileSync(node.configPath, JSON.stringify({ ...config, reconnect: { minDelayMs: 100, maxDelayMs: 1000 } }));
      await this.admin.enrolNode({ name: center, signingPublicKey: node.signingPublicKey });
      this.nodeConfigs.set(center, node.configPath);
      this.startNode(center, nodeEnv(center));
    }
    await this.waitConnected(4);
  }

  /** Every hospital's operator approves the study's signed manifest. */
  async approveEverywhere(studyId: string): Promise<void> {
    const signed = await this.admin.studyManifest(studyId);
    for (const center of HEART_DISEASE_CENTERS) approveSignedManifest(new ManifestApprovals(join(this.dir, center, 'state')), signed, this.coordinatorKey, 'e2e');
  }

  startNode(center: string, env: NodeJS.ProcessEnv = {}): void {
    const child = spawn(process.execPath, [MEDFED, 'node', 'start', '--config', this.nodeConfigs.get(center) as string], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    child.stdout?.resume();
    child.stderr?.resume();
    this.nodes.set(center, child);
  }

  async killNode(center: string): Promise<void> {
    const child = this.nodes.get(center);
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async waitConnected(n: number): Promise<void> {
    await until(async () => ((await this.admin.listNodes().catch(() => [])) as { connected: boolean }[]).filter((x) => x.connected).length >= n, 90_000, `${n} nodes connected`);
  }

  /** Waits for the study to end; returns its final status. */
  async waitForStudy(studyId: string, timeoutMs = 180_000): Promise<Awaited<ReturnType<AdminClient['studyStatus']>>> {
    let last: Awaited<ReturnType<AdminClient['studyStatus']>> | null = null;
    await until(
      async () => {
        last = await this.admin.studyStatus(studyId).catch(() => last);
        return last !== null && last.study.status !== 'running' && last.study.status !== 'created';
      },
      timeoutMs,
      `study ${studyId} to end`,
    );
    return last as unknown as Awaited<ReturnType<AdminClient['studyStatus']>>;
  }

  /** The weights of a model version, decoded by the caller. */
  async model(studyId: string, version: number): Promise<Uint8Array> {
    const health = await this.admin.health();
    void health;
    const url = (this.admin as unknown as { baseUrl: string }).baseUrl;
    const token = (this.admin as unknown as { token: string }).token;
    const res = await fetch(`${url}/api/studies/${studyId}/models/${version}`, { headers: { authorization: `Bearer ${token}` } });
    return new Uint8Array(await res.arrayBuffer());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.nodes.values(), ...(this.coordinator ? [this.coordinator] : [])];
    await Promise.all(
      all.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private startCoordinator(): void {
    this.coordinatorStarts += 1;
    const child = spawn(process.execPath, [MEDFED, 'coordinator', 'start', '--config', this.configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.env },
    });
    child.stdout?.resume();
    child.stderr?.resume();
    child.on('exit', () => {
      if (!this.stopped) this.startCoordinator();
    });
    this.coordinator = child;
  }
}
