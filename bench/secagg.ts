/**
 * What secure aggregation costs in a whole round: the same federated round timed with and without
 * it, through the real coordinator (Nest app, Socket.IO gateway, SQLite store) and real NodeClients
 * on loopback, all in this one process. The model is an MLP on the real Fed-Heart-Disease data (13
 * features → hidden → hidden → 1) with widths chosen to hit ~100k or ~1M parameters; site i trains
 * on hospital i mod 4's training split (there are four hospitals; more sites reuse them).
 *
 * Per configuration it prints the train round's time (dispatch to saved model: task sealing,
 * local training, upload or the five secure-aggregation steps, aggregation) with and without secure
 * aggregation, their ratio, and the bytes each site sent for the train round (its frames on the
 * wire: sealed, signed envelopes) with and without, and that ratio.
 *
 * One process runs every party, so the sites' work — training included — is done one site after
 * another on one event loop: a round here costs the sum of all parties' work, not what a real,
 * parallel federation waits for. The ratio of the two is what this measures.
 *
 * Run: node -r @swc-node/register bench/secagg.ts [--sites 5,10,50] [--params 100000,1000000]
 *      [--rounds 2] [--repeats 2] [--local-steps 1] [--skip 50x1000000] [--one-round 50x1000000]
 * (--one-round: configurations measured with one study of one round each, for time.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AdminClient, bootstrapCoordinator, initCoordinator, loadCoordinatorConfig, RunningCoordinator } from '@medfed/coordinator-api';
import { HEART_DISEASE_CENTERS } from '@medfed/data';
import { heartDemoStudy } from '@medfed/demo';
import { approveSignedManifest, initNode, loadNodeConfig, RunningNode, startNode } from '@medfed/node-runtime';
import { SilentLogger } from '@medfed/observability';
import type { StudySpec } from '@medfed/protocol';

const DATA = resolve(__dirname, '..', 'data', 'fed-heart-disease');
const FEATURES = 13;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const numbers = (s: string): number[] => s.split(',').filter(Boolean).map(Number);

/** Parameters of a 13 → h → h → 1 MLP: (13+1)h + (h+1)h + (h+1). */
export function mlpParams(h: number): number {
  return (FEATURES + 1) * h + (h + 1) * h + (h + 1);
}

/** The hidden width whose MLP has the parameter count closest to `target`. */
function widthFor(target: number): number {
  let h = 1;
  while (mlpParams(h + 1) <= target) h += 1;
  return Math.abs(mlpParams(h + 1) - target) < Math.abs(mlpParams(h) - target) ? h + 1 : h;
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Federation {
  coordinator: RunningCoordinator;
  admin: AdminClient;
  coordinatorKey: string;
  nodes: RunningNode[];
  dir: string;
}

async function startFederation(sites: number): Promise<Federation> {
  const dir = mkdtempSync(join(tmpdir(), 'medfed-bench-secagg-'));
  // 1M float32 parameters make 4 MB tensors; the secure masked input travels as base64 in a sealed body.
  const maxFrameBytes = 128 * 1024 * 1024;
  const made = initCoordinator(join(dir, 'coordinator'), { port: 0, maxFrameBytes });
  const coordinator = await bootstrapCoordinator(loadCoordinatorConfig(made.configPath), { logger: new SilentLogger() });
  const admin = new AdminClient(coordinator.url, made.adminToken);
  const nodes: RunningNode[] = [];
  for (let i = 0; i < sites; i++) {
    const center = HEART_DISEASE_CENTERS[i % HEART_DISEASE_CENTERS.length];
    const name = `${center}-${String(i).padStart(2, '0')}`;
    const node = initNode(join(dir, name), { name, coordinatorUrl: coordinator.url, coordinatorSigningPublicKey: made.signingPublicKey, dataPath: DATA, center });
    const raw = JSON.parse(readFileSync(node.configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(node.configPath, JSON.stringify({ ...raw, maxFrameBytes, reconnect: { minDelayMs: 100, maxDelayMs: 1000 } }));
    await admin.enrolNode({ name, signingPublicKey: node.signingPublicKey });
    nodes.push(await startNode(loadNodeConfig(node.configPath), new SilentLogger()));
  }
  await until(async () => (await admin.listNodes()).filter((n) => n.connected).length >= sites, 120_000, `${sites} nodes connected`);
  return { coordinator, admin, coordinatorKey: made.signingPublicKey, nodes, dir };
}

async function stopFederation(f: Federation): Promise<void> {
  for (const node of f.nodes) await node.stop();
  await f.coordinator.close();
  rmSync(f.dir, { recursive: true, force: true });
}

interface Measured {
  /** Train-round times in ms, dispatch to saved model. */
  roundMs: number[];
  /** Mean over sites of the bytes each sent per train round (train-result or secagg-up frames). */
  bytesPerSite: number;
  /** Every site counted in every round. */
  allSites: boolean;
}

function uploadBytes(node: RunningNode): number {
  const k = node.client.stats.byKind;
  return (k['train-result']?.bytes ?? 0) + (k['secagg-up']?.bytes ?? 0);
}

async function runStudy(f: Federation, spec: StudySpec): Promise<Measured> {
  const before = f.nodes.map(uploadBytes);
  const study = await f.admin.createStudy(spec);
  const signed = await f.admin.studyManifest(study.id);
  for (const node of f.nodes) approveSignedManifest(node.client.approvals, signed, f.coordinatorKey, 'bench');
  await f.admin.launchStudy(study.id);
  // Polled from the store in this process: an HTTP poll could time out while the one event loop is
  // busy for seconds with a 1M-parameter round.
  const store = f.coordinator.store;
  await until(() => !['running', 'created'].includes(store.getStudy(study.id)?.status ?? 'running'), 30 * 60_000, `study ${study.id}`);
  const ended = store.getStudy(study.id);
  if (ended?.status !== 'completed') throw new Error(`study ${study.id} ended ${String(ended?.status)}: ${ended?.failureReason ?? ''}`);
  const trains = store.listRounds(study.id).filter((r) => r.kind === 'train');
  const sent = f.nodes.map((node, i) => uploadBytes(node) - before[i]);
  return {
    roundMs: trains.map((r) => (r.closedAt ?? 0) - r.startedAt),
    bytesPerSite: sent.reduce((a, b) => a + b, 0) / f.nodes.length / trains.length,
    allSites: trains.every((r) => ((r.metrics as { sites?: unknown[] } | null)?.sites?.length ?? 0) === f.nodes.length),
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main(): Promise<void> {
  const siteCounts = numbers(arg('sites', '5,10,50'));
  const paramTargets = numbers(arg('params', '100000,1000000'));
  const rounds = Number(arg('rounds', '2'));
  const repeatsWanted = Number(arg('repeats', '2'));
  const localSteps = Number(arg('local-steps', '1'));
  const skip = new Set(arg('skip', '').split(',').filter(Boolean));
  const oneRound = new Set(arg('one-round', '').split(',').filter(Boolean));
  process.stdout.write(
    `node ${process.version}; one process on loopback (coordinator + all sites); MLP 13→h→h→1 on Fed-Heart-Disease, ${localSteps} local step(s) of full-batch SGD;\n` +
      `secure aggregation = Bonawitz et al. 2017 all pairs, malicious-server variant (signed keys, consistency check), t = ⌊2n/3⌋+1, ring Z_2^32;\n` +
      `${repeatsWanted} plain and ${repeatsWanted} secure studies of ${rounds} train rounds each, alternating; round time = median over their train rounds\n\n`,
  );
  process.stdout.write('sites   params(h)          rounds  plain ms  secagg ms  time ×   plain B/site  secagg B/site  bytes ×\n');
  // (rounds = train rounds per study; bytes = what one site sent for one train round)
  for (const target of paramTargets) {
    const h = widthFor(target);
    for (const sites of siteCounts) {
      const key = `${sites}x${target}`;
      if (skip.has(key)) {
        process.stdout.write(`${String(sites).padStart(5)} ${`${mlpParams(h)} (${h})`.padStart(18)}  skipped\n`);
        continue;
      }
      const r = oneRound.has(key) ? 1 : rounds;
      const repeats = oneRound.has(key) ? 1 : repeatsWanted;
      const base: StudySpec = {
        // heartDemoStudy turns secure aggregation on by default: the plain run must not have it.
        // Four hours: a step of the session may wait a tenth of it, and here the sites' masking runs one
        // after another (50 sites × 1M parameters take minutes on a loaded 2-core machine).
        ...heartDemoStudy({ rounds: r, roundTimeoutSeconds: 4 * 3600, secureAggregation: false }),
        model: { family: 'mlp', inputDim: FEATURES, hidden: [h, h] },
        training: { localSteps, batchSize: 512, learningRate: 0.05, optimizer: 'sgd', l2: 0, proximalMu: 0 },
        minSites: sites,
      };
      const f = await startFederation(sites);
      try {
        if (base.secureAggregation) throw new Error('the plain study must run without secure aggregation');
        // Plain, secure, plain, secure…: the machine's load drifts, so the two alternate study by study.
        const plain: Measured[] = [];
        const secure: Measured[] = [];
        for (let rep = 0; rep < repeats; rep++) {
          plain.push(await runStudy(f, { ...base, name: `plain-${key}-${rep}` }));
          secure.push(await runStudy(f, { ...base, name: `secagg-${key}-${rep}`, secureAggregation: { clipRange: 10 } }));
        }
        if (![...plain, ...secure].every((m) => m.allSites)) process.stdout.write('  (warning: a site was missing from a round)\n');
        const p = median(plain.flatMap((m) => m.roundMs));
        const s = median(secure.flatMap((m) => m.roundMs));
        const plainBytes = plain[0].bytesPerSite;
        const secureBytes = secure[0].bytesPerSite;
        process.stdout.write(
          `${String(sites).padStart(5)} ${`${mlpParams(h)} (${h})`.padStart(18)} ${String(r).padStart(7)} ${p.toFixed(0).padStart(9)} ${s.toFixed(0).padStart(10)} ${(s / p).toFixed(2).padStart(7)}` +
            ` ${plainBytes.toFixed(0).padStart(13)} ${secureBytes.toFixed(0).padStart(14)} ${(secureBytes / plainBytes).toFixed(3).padStart(8)}\n`,
        );
      } finally {
        await stopFederation(f);
      }
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
