import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AdminClient, bootstrapCoordinator, initCoordinator, loadCoordinatorConfig, RunningCoordinator } from '@medfed/coordinator-api';
import { EvaluationMetrics, TrainingMetrics } from '@medfed/coordinator-core';
import { HEART_DISEASE_CENTERS, loadHeartDiseaseCenter } from '@medfed/data';
import { trainCentralisedBaseline, trainLocalBaseline } from '@medfed/models';
import { JsonLinesLogger } from '@medfed/observability';
import type { StrategyName } from '@medfed/protocol';
import { ManifestApprovals, approveSignedManifest, initNode } from '@medfed/node-runtime';
import { BaselineAccuracy, DemoPrivacy, DemoRound, DemoSummary, formatPrivacyTable, formatSummaryTable } from './demo-summary';
import { noiseForEpsilon } from '@medfed/privacy';
import { readAuditLog } from '@medfed/audit';
import type { StudySpec } from '@medfed/protocol';
import { HEART_BASELINE_EPOCHS, HEART_BASELINE_TRAINING, heartDemoStudy } from './heart-study';
import { NodeProcess, REPO_ROOT, spawnNodeProcess, stopNodeProcesses } from './node-processes';
import { bytesSentFromLog, readNodeFacts, round4, waitForNodes, watchStudyRounds } from './demo-federation';


/** Options of `medfed demo`. */
export interface HeartDemoOptions {
  /** Where every process keeps its state and logs. Default: .medfed-work/demo-<time> in the repository. */
  workdir?: string;
  /** Fed-Heart-Disease folder. Default: the copy in data/fed-heart-disease. */
  dataDir?: string;
  rounds?: number;
  seed?: number;
  /** Aggregation strategy (default fedavg). */
  strategy?: StrategyName;
  /** Also run the same federation under client-level DP with this total ε (δ = 1e-5, split noise). */
  dpEpsilon?: number;
  /** Secure aggregation (default on where the strategy allows it). */
  secureAggregation?: boolean;
  /** Write the summary as JSON here too. */
  jsonPath?: string;
  /** Skip the local and centralised baselines (tests that only need the federation). */
  skipBaselines?: boolean;
  /** Where progress lines go. Default: stdout. */
  print?: (line: string) => void;
}

/**
 * The main job on the embedded default: a coordinator (SQLite in the work folder) and four hospital
 * node processes — Cleveland, Hungary, Switzerland, VA Long Beach — each holding only its own rows of
 * Fed-Heart-Disease, train logistic regression with FedAvg over Socket.IO on loopback. Ends with each
 * hospital's test accuracy beside the local-only and centralised baselines.
 */
export async function runHeartDemo(options: HeartDemoOptions = {}): Promise<DemoSummary> {
  const print = options.print ?? ((line: string) => process.stdout.write(line + '\n'));
  const started = performance.now();
  const workdir = resolve(options.workdir ?? join(REPO_ROOT, '.medfed-work', `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  const dataDir = resolve(options.dataDir ?? join(REPO_ROOT, 'data', 'fed-heart-disease'));
  mkdirSync(join(workdir, 'logs'), { recursive: true });
  print(`medfed demo: 4 hospitals, Fed-Heart-Disease, work folder ${workdir}`);

  const init = initCoordinator(join(workdir, 'coordinator'), { port: 0 });
  const coordinatorLog = join(workdir, 'logs', 'coordinator.log');
  const logger = new JsonLinesLogger('coordinator', (line) => writeFileSync(coordinatorLog, line, { flag: 'a' }));
  const running = await bootstrapCoordinator(loadCoordinatorConfig(init.configPath), { logger, dispatchRetryMs: 200 });
  const admin = new AdminClient(running.url, init.adminToken);
  print(`coordinator listening on ${running.url} (key ${init.fingerprint})`);

  const nodes: NodeProcess[] = [];
  try {
    for (const center of HEART_DISEASE_CENTERS) {
      const made = initNode(join(workdir, 'nodes', center), {
        name: center,
        coordinatorUrl: running.url,
        coordinatorSigningPublicKey: init.signingPublicKey,
        dataPath: dataDir,
        center,
      });
      await admin.enrolNode({ name: center, signingPublicKey: made.signingPublicKey, encryptionPublicKey: made.encryptionPublicKey });
      nodes.push(spawnNodeProcess(center, made.configPath, join(workdir, 'logs')));
    }
    print(`started ${nodes.length} node processes; waiting for them to connect…`);
    await waitForNodes(admin, nodes, 90_000);
    print('all 4 hospitals connected and authenticated');

    const spec = heartDemoStudy({ rounds: options.rounds, seed: options.seed, strategy: options.strategy, secureAggregation: options.secureAggregation });
    print(spec.secureAggregation ? `secure aggregation on: the coordinator learns only the sum of the updates (threshold ⌊2n/3⌋+1)` : 'secure aggregation off');
    const study = await admin.createStudy(spec);
    // Each hospital's operator approves exactly this manifest, checked against the pinned coordinator key.
    const signed = await admin.studyManifest(study.id);
    for (const center of HEART_DISEASE_CENTERS) {
      approveSignedManifest(new ManifestApprovals(join(workdir, 'nodes', center, 'state')), signed, init.signingPublicKey, `${center} operator (demo)`);
    }
    print(`study ${study.id}: manifest ${signed.sha256.slice(0, 16)}… approved at all 4 hospitals`);
    const history: DemoRound[] = [];
    const done = watchStudy(running, study.id, spec.rounds, history, print);
    await admin.launchStudy(study.id);
    await done;

    const privacy = options.dpEpsilon !== undefined ? await runPrivateStudy(admin, running, workdir, init.signingPublicKey, spec, options.dpEpsilon, print) : null;

    const status = await admin.studyStatus(study.id);
    const lastEval = [...status.rounds].reverse().find((r) => r.kind === 'evaluate' && r.state === 'completed');
    const lastTrain = [...status.rounds].reverse().find((r) => r.kind === 'train' && r.state === 'completed');
    const evaluation = lastEval?.metrics as unknown as EvaluationMetrics | undefined;
    const training = lastTrain?.metrics as unknown as TrainingMetrics | undefined;
    // Under secure aggregation the coordinator does not learn a site's backend or training-set size;
    // the demo, which runs the nodes, reads them from the nodes' own logs.
    const nodeFacts = (center: string) => readNodeFacts(join(workdir, 'logs', `${center}.log`));
    const backend = String(running.store.listContributions(study.id, lastTrain?.round ?? 1, 'train')[0]?.metrics['backend'] ?? nodeFacts('cleveland').backend ?? 'unknown');

    await stopNodeProcesses(nodes);
    const bytesSentPerNode = Object.fromEntries(nodes.map((n) => [n.name, bytesSentFromLog(n.logPath, study.id)]));

    const baselines = options.skipBaselines ? emptyBaselines() : runBaselines(dataDir, spec.seed, print);
    const sites = HEART_DISEASE_CENTERS.map((name) => {
      const ev = evaluation?.sites.find((s) => s.name === name);
      const tr = training?.sites.find((s) => s.name === name);
      return { name, nTrain: tr?.numExamples || (nodeFacts(name).trainExamples ?? 0), nTest: ev?.numExamples ?? 0, testAccuracy: round4(ev?.accuracy ?? null) };
    });
    const perNode = Object.values(bytesSentPerNode);
    const summary: DemoSummary = {
      study: spec.name,
      studyId: study.id,
      secureAggregation: spec.secureAggregation !== undefined,
      strategy: spec.strategy,
      rounds: spec.rounds,
      backend,
      sites,
      meanSiteTestAccuracy: round4(evaluation?.meanSiteAccuracy ?? null),
      pooledTestAccuracy: round4(evaluation?.pooledAccuracy ?? null),
      baselines,
      wallSeconds: Math.round((performance.now() - started) / 100) / 10,
      bytesSentPerNodePerRound: Math.round(perNode.reduce((a, b) => a + b, 0) / perNode.length / spec.rounds),
      bytesSentPerNode,
      history,
      workdir,
      ...(privacy ? { privacy: { ...privacy, accuracyCost: { meanSiteTestAccuracy: round4((evaluation?.meanSiteAccuracy ?? 0) - (privacy.meanSiteTestAccuracy ?? 0)), pooledTestAccuracy: round4((evaluation?.pooledAccuracy ?? 0) - (privacy.pooledTestAccuracy ?? 0)) } } } : {}),
      auditLogs: [running.auditLogPath, ...HEART_DISEASE_CENTERS.map((c) => join(workdir, 'nodes', c, 'state', 'audit.jsonl'))],
    };
    print(formatSummaryTable(summary));
    if (summary.privacy) print(formatPrivacyTable(summary));
    if (options.jsonPath) {
      mkdirSync(dirname(resolve(options.jsonPath)), { recursive: true });
      writeFileSync(options.jsonPath, JSON.stringify(summary, null, 2) + '\n');
      print(`summary written to ${resolve(options.jsonPath)}`);
    }
    return summary;
  } finally {
    await stopNodeProcesses(nodes);
    await running.close();
  }
}

function watchStudy(running: RunningCoordinator, studyId: string, rounds: number, history: DemoRound[], print: (line: string) => void): Promise<void> {
  return watchStudyRounds(running, studyId, print, (round, m, trainLoss) => {
    history.push({ round, trainLoss: round4(trainLoss), meanSiteTestAccuracy: round4(m.meanSiteAccuracy), pooledTestAccuracy: round4(m.pooledAccuracy) });
    const acc = (x: number | null): string => (x === null ? 'n/a' : (x * 100).toFixed(1) + '%');
    print(
      `round ${String(round).padStart(2)}/${rounds}  train loss ${trainLoss?.toFixed(4) ?? 'hidden'}  ` +
        `test accuracy: mean per site ${acc(m.meanSiteAccuracy)}, pooled ${acc(m.pooledAccuracy)}`,
    );
  });
}

function runBaselines(dataDir: string, seed: number, print: (line: string) => void): DemoSummary['baselines'] {
  print('computing baselines (each hospital alone; centralised on pooled data)…');
  const centers = HEART_DISEASE_CENTERS.map((c) => loadHeartDiseaseCenter(dataDir, c));
  const options = { training: HEART_BASELINE_TRAINING, epochs: HEART_BASELINE_EPOCHS, seed };
  const local = trainLocalBaseline(centers, options);
  const central = trainCentralisedBaseline(centers, options);
  const toBaseline = (r: { perCenter: { center: string; accuracy: number }[]; meanPerCenter: number; pooled: number }): BaselineAccuracy => ({
    meanSiteTestAccuracy: round4(r.meanPerCenter) ?? 0,
    pooledTestAccuracy: round4(r.pooled) ?? 0,
    sites: r.perCenter.map((c) => ({ name: c.center, testAccuracy: round4(c.accuracy) ?? 0 })),
  });
  return { local: toBaseline(local), centralised: toBaseline(central) };
}

function emptyBaselines(): DemoSummary['baselines'] {
  const none: BaselineAccuracy = { meanSiteTestAccuracy: Number.NaN, pooledTestAccuracy: Number.NaN, sites: [] };
  return { local: none, centralised: none };
}

/** Clip norm of the demo's private run: above a typical round's update of this model, so clipping rarely bites. */
export const DEMO_DP_CLIP_NORM = 1;

/**
 * The same federation under client-level DP: the noise multiplier that keeps the whole study within
 * `epsilon` (RDP accountant, δ = 1e-5, every site in every round), split across the sites so the
 * coordinator never sees an un-noised update. Each node charges its own ledger; what each spent is
 * read from its audit log.
 */
async function runPrivateStudy(
  admin: AdminClient,
  running: RunningCoordinator,
  workdir: string,
  coordinatorKey: string,
  base: StudySpec,
  epsilon: number,
  print: (line: string) => void,
): Promise<Omit<DemoPrivacy, 'accuracyCost'>> {
  const delta = 1e-5;
  const noiseMultiplier = noiseForEpsilon(epsilon, { clipNorm: DEMO_DP_CLIP_NORM, samplingRate: 1, delta, rounds: base.rounds, noisePlacement: 'split' });
  const spec: StudySpec = { ...base, name: `${base.name}-dp`, dp: { noiseMultiplier, clipNorm: DEMO_DP_CLIP_NORM, placement: 'split' } };
  print(`\nsame federation under differential privacy: ε = ${epsilon}, δ = ${delta}, noise multiplier ${noiseMultiplier.toFixed(3)}, clip norm ${DEMO_DP_CLIP_NORM}`);
  const study = await admin.createStudy(spec);
  const signed = await admin.studyManifest(study.id);
  for (const center of HEART_DISEASE_CENTERS) {
    approveSignedManifest(new ManifestApprovals(join(workdir, 'nodes', center, 'state')), signed, coordinatorKey, `${center} operator (demo)`);
  }
  const done = watchStudy(running, study.id, spec.rounds, [], print);
  await admin.launchStudy(study.id);
  await done;
  const status = await admin.studyStatus(study.id);
  const lastEval = [...status.rounds].reverse().find((r) => r.kind === 'evaluate' && r.state === 'completed');
  const evaluation = lastEval?.metrics as unknown as EvaluationMetrics | undefined;
  const epsilonSpent: Record<string, number> = {};
  for (const center of HEART_DISEASE_CENTERS) {
    const spent = readAuditLog(join(workdir, 'nodes', center, 'state', 'audit.jsonl')).filter((e) => e.event === 'privacy.spent' && e.details['studyId'] === study.id);
    epsilonSpent[center] = round4(Number(spent[spent.length - 1]?.details['epsilonAfter'] ?? 0)) ?? 0;
  }
  return {
    studyId: study.id,
    targetEpsilon: epsilon,
    delta,
    noiseMultiplier: round4(noiseMultiplier) ?? noiseMultiplier,
    clipNorm: DEMO_DP_CLIP_NORM,
    placement: 'split',
    epsilonSpent,
    sites: HEART_DISEASE_CENTERS.map((name) => ({ name, testAccuracy: round4(evaluation?.sites.find((x) => x.name === name)?.accuracy ?? null) })),
    meanSiteTestAccuracy: round4(evaluation?.meanSiteAccuracy ?? null),
    pooledTestAccuracy: round4(evaluation?.pooledAccuracy ?? null),
  };
}
