/**
 * The README's "separate machines" instructions, run as written through the `medfed` command:
 * coordinator init/start, node init/start for four hospitals, nodes enrol, study create/launch/status.
 * Every step is its own process, as it would be on real servers.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@medfed/demo';

const run = promisify(execFile);
const MEDFED = join(REPO_ROOT, 'bin', 'medfed.js');
const DATA = join(REPO_ROOT, 'data', 'fed-heart-disease');

async function medfed(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [MEDFED, ...args], { timeout: 60_000 });
  return stdout;
}

describe('the medfed command, as the README uses it', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'medfed-cli-'));
  });

  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints --help for every subcommand', async () => {
    for (const cmd of [[], ['coordinator', 'init'], ['coordinator', 'start'], ['node', 'init'], ['node', 'start'], ['nodes', 'enrol'], ['nodes', 'token'], ['study', 'create'], ['study', 'launch'], ['study', 'manifest'], ['node', 'approve'], ['node', 'manifests'], ['audit', 'verify'], ['audit', 'reconcile'], ['study', 'status'], ['demo']]) {
      const out = await medfed(...cmd, '--help');
      expect(out).toMatch(/^Usage: medfed/);
    }
  }, 120_000);

  it('runs a federation of four hospitals from separate processes', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    await medfed('coordinator', 'init', '--dir', join(dir, 'coordinator'), '--port', String(port));
    const coordinatorConfig = join(dir, 'coordinator', 'coordinator.json');
    expect(statSync(join(dir, 'coordinator', 'identity.json')).mode & 0o777).toBe(0o600);
    const coordinator = spawn(process.execPath, [MEDFED, 'coordinator', 'start', '--config', coordinatorConfig], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(coordinator);
    let coordinatorLog = '';
    coordinator.stdout?.on('data', (d: Buffer) => (coordinatorLog += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!coordinatorLog.includes('coordinator.started')) {
      if (Date.now() > deadline || coordinator.exitCode !== null) throw new Error(`coordinator did not start: ${coordinatorLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    for (const center of ['cleveland', 'hungarian', 'switzerland', 'va']) {
      const nodeDir = join(dir, center);
      await medfed('node', 'init', '--dir', nodeDir, '--name', center, '--coordinator-url', `http://127.0.0.1:${port}`,
        '--coordinator-public', join(dir, 'coordinator', 'coordinator.public.json'), '--data', DATA, '--center', center);
      await medfed('nodes', 'enrol', '--coordinator-config', coordinatorConfig, '--public-identity', join(nodeDir, 'node.public.json'), '--name', center);
      children.push(spawn(process.execPath, [MEDFED, 'node', 'start', '--config', join(nodeDir, 'node.json')], { stdio: 'ignore' }));
    }
    while ((await medfed('nodes', 'list', '--coordinator-config', coordinatorConfig)).split('connected').length - 1 < 4) {
      if (Date.now() > deadline + 60_000) throw new Error('nodes did not connect');
      await new Promise((r) => setTimeout(r, 250));
    }

    const created = await medfed('study', 'create', '--preset', 'heart-fedavg', '--rounds', '3', '--coordinator-config', coordinatorConfig);
    const studyId = /study (\S+) created/.exec(created)?.[1] as string;
    expect(studyId).toMatch(/^heart-disease-fedavg-[0-9a-f]{6}$/);
    // Each hospital inspects and approves the signed manifest, as the README says.
    const manifestFile = join(dir, 'manifest.json');
    writeFileSync(manifestFile, await medfed('study', 'manifest', studyId, '--coordinator-config', coordinatorConfig));
    for (const center of ['cleveland', 'hungarian', 'switzerland', 'va']) {
      expect(await medfed('node', 'approve', '--config', join(dir, center, 'node.json'), '--file', manifestFile, '--by', `${center}-it`)).toMatch(/^approved [0-9a-f]{64}/);
    }
    expect(await medfed('node', 'manifests', '--config', join(dir, 'va', 'node.json'))).toMatch(/^approved /);
    expect(await medfed('study', 'launch', studyId, '--coordinator-config', coordinatorConfig)).toContain('is running');
    const watched = await medfed('study', 'status', studyId, '--watch', '--coordinator-config', coordinatorConfig);
    expect(watched).toContain(`study ${studyId} (heart-disease-fedavg): completed, round 3/3`);
    expect(watched).toMatch(/round 3 evaluate completed .* mean \d+\.\d% pooled \d+\.\d%/);
    const status = JSON.parse(await medfed('study', 'status', studyId, '--json', '--coordinator-config', coordinatorConfig)) as { rounds: { kind: string; metrics: { pooledAccuracy?: number } }[] };
    expect(status.rounds.filter((r) => r.kind === 'evaluate').at(-1)?.metrics.pooledAccuracy).toBeGreaterThan(0.7);
    // The operator token never appears in the coordinator's log.
    const token = (JSON.parse(readFileSync(coordinatorConfig, 'utf8')) as { adminToken: string }).adminToken;
    expect(coordinatorLog).not.toContain(token);
  }, 240_000);
});
