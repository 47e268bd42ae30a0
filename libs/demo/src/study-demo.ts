import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AdminClient, RunningCoordinator, bootstrapCoordinator, initCoordinator, loadCoordinatorConfig } from '@medfed/coordinator-api';
import { EvaluationMetrics } from '@medfed/coordinator-core';
import { FeatureStatistics, StudySpec, decodeTensors, isGeneratorRound, totalRounds } from '@medfed/protocol';
import { initBackend, saveModelArtifact } from '@medfed/models';
import { JsonLinesLogger } from '@medfed/observability';
import { ManifestApprovals, approveSignedManifest, initNode } from '@medfed/node-runtime';
import { EvaluationFigures, SavedModelEvaluation, StudyDefinition, StudyMetrics, datasetDefinition, simulateStudy, studyDefinition } from '@medfed/studies';
import { DemoError, bytesSentFromLog, round4, waitForNodes, watchStudyRounds } from './demo-federation';
import { NodeProcess, REPO_ROOT, spawnNodeProcess, stopNodeProcesses } from './node-processes';

/** Options of `medfed demo --study NAME`. */
export interface StudyDemoOptions {
  study: string;
  /** `full`: the study's demo configuration; `fast`: the small one the tests use. */
  size?: 'full' | 'fast';
  workdir?: string;
  /** The data folder; default the study's copy in data/. */
  dataDir?: string;
  /** Division of a single-file data set among sites (BreastMNIST: even or skewed); default the study's. */
  partition?: string;
  /** Write the summary as JSON here too. */
  jsonPath?: string;
  /** Save the chosen global model (TensorFlow.js weights manifest + preprocessing statistics) here. */
  saveModelDir?: string;
  /** Skip the local-only and centralised baselines. */
  skipBaselines?: boolean;
  print?: (line: string) => void;
}

/** The figures of one training setting, as the summary shows them. */
export interface StudyFigures {
  sites: { name: string; numExamples: number; suppressed: boolean; auc: number | null; accuracy: number | null; minSePpv: number | null; calibrationError: number | null; rates: Record<string, number> }[];
  pooled: { auc: number | null; accuracy: number | null; minSePpv: number | null; sensitivity: number | null; ppv: number | null; calibrationError: number | null; aucPerOutput: (number | null)[]; groups: Record<string, number | null>; rates: Record<string, number> };
  meanSite: { auc: number | null; accuracy: number | null; minSePpv: number | null };
  worstSite: { name: string; metric: string; value: number } | null;
  /** Permutation importance pooled over the sites (mean loss increase), the ten largest; empty when the data set has none. */
  importance: { feature: string; meanLossIncrease: number }[];
}

/** The `--json` summary of a study demo. */
export interface StudyDemoSummary {
  study: string;
  description: string;
  studyId: string;
  dataset: string;
  partition: string | null;
  size: 'full' | 'fast';
  strategy: string;
  secureAggregation: boolean;
  federatedStatistics: boolean;
  /** planned and run count train rounds of both phases; `generatorPhase` is the phase's planned rounds (0 without one). */
  rounds: { planned: number; run: number; chosen: number; chosenOn: 'validation' | 'test' | 'generator-phase' | 'last'; generatorPhase: number };
  headlineMetric: 'accuracy' | 'auc';
  federated: StudyFigures;
  baselines: { local: StudyFigures; centralised: StudyFigures } | null;
  /** How the baselines were trained differently from the federation, when they were (the study's note). */
  baselinesNote: string | null;
  history: { round: number; validationLoss: number | null; pooledAuc: number | null; pooledAccuracy: number | null }[];
  backend: string;
  wallSeconds: number;
  bytesSentPerNodePerRound: number;
  modelDir: string | null;
  auditLogs: string[];
  workdir: string;
}

function figures(m: StudyMetrics, featureNames: readonly string[] = []): StudyFigures {
  const rates = (f: EvaluationFigures) => Object.fromEntries(Object.entries(f.rates).map(([k, v]) => [k, round4(v.rate) ?? 0]));
  return {
    sites: m.sites.map((s) => ({
      name: s.name,
      numExamples: s.numExamples,
      suppressed: s.suppressed,
      auc: round4(s.auc),
      accuracy: round4(s.accuracy),
      minSePpv: round4(s.minSePpv),
      calibrationError: round4(s.calibrationError),
      rates: rates(s),
    })),
    pooled: {
      auc: round4(m.pooled.auc),
      accuracy: round4(m.pooled.accuracy),
      minSePpv: round4(m.pooled.minSePpv),
      sensitivity: round4(m.pooled.sensitivity),
      ppv: round4(m.pooled.ppv),
      calibrationError: round4(m.pooled.calibrationError),
      aucPerOutput: m.pooled.aucPerOutput.map((x) => round4(x)),
      groups: Object.fromEntries(Object.entries(m.pooled.groups).map(([k, v]) => [k, round4(v.auc)])),
      rates: rates(m.pooled),
    },
    meanSite: { auc: round4(m.meanSite.auc), accuracy: round4(m.meanSite.accuracy), minSePpv: round4(m.meanSite.minSePpv) },
    worstSite: m.worstSite ? { ...m.worstSite, value: round4(m.worstSite.value) ?? 0 } : null,
    importance: (m.importance ?? [])
      .map((v, j) => ({ feature: featureNames[j] ?? `feature ${j}`, meanLossIncrease: round4(v) ?? 0 }))
      .sort((a, b) => b.meanLossIncrease - a.meanLossIncrease)
      .slice(0, 10),
  };
}

/**
 * Runs one of the studies end to end on loopback: a coordinator and one node process per site, each
 * node holding only its own site's data, with manifests approved at every site; then the local-only and
 * centralised baselines in process, and a summary of every metric per site, pooled and for the worst site.
 */
export async function runStudyDemo(options: StudyDemoOptions): Promise<StudyDemoSummary> {
  const print = options.print ?? ((line: string) => process.stdout.write(line + '\n'));
  const started = performance.now();
  const study = studyDefinition(options.study);
  const dataset = datasetDefinition(study.dataset);
  const size = options.size ?? 'full';
  const spec = study.spec(size);
  const partition = options.partition ?? study.partition;
  const workdir = resolve(options.workdir ?? join(REPO_ROOT, '.medfed-work', `demo-${study.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  const dataDir = resolve(options.dataDir ?? join(REPO_ROOT, study.dataDir));
  mkdirSync(join(workdir, 'logs'), { recursive: true });
  print(`medfed demo --study ${study.name}: ${study.description}; ${study.sites.length} sites${partition ? ` (${partition} partition)` : ''}; work folder ${workdir}`);

  const init = initCoordinator(join(workdir, 'coordinator'), { port: 0 });
  const coordinatorLog = join(workdir, 'logs', 'coordinator.log');
  const logger = new JsonLinesLogger('coordinator', (line) => writeFileSync(coordinatorLog, line, { flag: 'a' }));
  const running = await bootstrapCoordinator(loadCoordinatorConfig(init.configPath), { logger, dispatchRetryMs: 200 });
  const admin = new AdminClient(running.url, init.adminToken);
  const nodes: NodeProcess[] = [];
  try {
    for (const site of study.sites) {
      const made = initNode(join(workdir, 'nodes', site), {
        name: site,
        coordinatorUrl: running.url,
        coordinatorSigningPublicKey: init.signingPublicKey,
        dataPath: dataDir,
        center: site,
        dataset: study.dataset,
        ...(partition ? { partition } : {}),
        policy: { allowedDatasets: [study.dataset], allowedModelFamilies: [spec.model.family] },
      });
      await admin.enrolNode({ name: site, signingPublicKey: made.signingPublicKey, encryptionPublicKey: made.encryptionPublicKey });
      nodes.push(spawnNodeProcess(site, made.configPath, join(workdir, 'logs')));
    }
    print(`started ${nodes.length} node processes; waiting for them to load their data and connect…`);
    await waitForNodes(admin, nodes, 180_000);
    const created = await admin.createStudy(spec);
    const signed = await admin.studyManifest(created.id);
    for (const site of study.sites) {
      approveSignedManifest(new ManifestApprovals(join(workdir, 'nodes', site, 'state')), signed, init.signingPublicKey, `${site} operator (demo)`);
    }
    const phase = spec.generatorPhase ? ` + ${spec.generatorPhase.rounds} generator rounds` : '';
    print(`study ${created.id}: manifest ${signed.sha256.slice(0, 16)}… approved at all ${study.sites.length} sites; ${spec.rounds} rounds at most${phase}`);
    const history: StudyDemoSummary['history'] = [];
    const done = watch(running, created.id, spec, history, print);
    await admin.launchStudy(created.id);
    await done;

    const status = await admin.studyStatus(created.id);
    const evaluations = status.rounds.filter((r) => r.kind === 'evaluate' && r.state === 'completed');
    const best = status.bestModelVersion;
    // A generator phase delivers its last version (the chosen classifier with the trained generator).
    const chosenRound = (spec.earlyStopping || spec.generatorPhase) && best ? best.version : (evaluations[evaluations.length - 1]?.modelVersionIn ?? spec.rounds);
    // The latest evaluation of the chosen version: after early stopping, the final one with the end-of-study extras.
    const chosenEval = [...evaluations].reverse().find((r) => r.modelVersionIn === chosenRound) ?? evaluations[evaluations.length - 1];
    const metrics = (chosenEval?.metrics as unknown as EvaluationMetrics | undefined)?.study;
    if (!metrics) throw new DemoError(`study ${created.id} has no completed evaluation round`);
    await stopNodeProcesses(nodes);
    const perNode = nodes.map((n) => bytesSentFromLog(n.logPath, created.id));
    const roundsRun = status.rounds.filter((r) => r.kind === 'train' && r.state === 'completed').length;

    let modelDir: string | null = null;
    if (options.saveModelDir) {
      modelDir = resolve(options.saveModelDir);
      saveChosenModel(running, created.id, chosenRound, study, spec.seed, modelDir, metrics);
      print(`model of round ${chosenRound} saved to ${modelDir} (model.json + weights.bin, with the preprocessing statistics)`);
    }

    let baselines: StudyDemoSummary['baselines'] = null;
    if (!options.skipBaselines) {
      print('computing baselines in process (each site alone; centralised on the pooled training data)…');
      await initBackend('auto');
      // The baselines divide the data exactly as the nodes did (e.g. BreastMNIST's skewed partition), in the study's
      // baseline configuration (tox21-gan: the classifier alone).
      const baselineSpec = study.baselines?.spec(spec) ?? spec;
      const sim = await simulateStudy({ ...study, partition }, dataset, { dataDir, spec: baselineSpec, run: { federated: false }, minCohort: 1 });
      baselines = { local: figures(sim.local as StudyMetrics), centralised: figures(sim.centralised as StudyMetrics) };
    }
    const summary: StudyDemoSummary = {
      study: study.name,
      description: study.description,
      studyId: created.id,
      dataset: study.dataset,
      partition: partition ?? null,
      size,
      strategy: spec.strategy,
      secureAggregation: spec.secureAggregation !== undefined,
      federatedStatistics: spec.preprocessing?.federatedStatistics === true,
      rounds: {
        planned: totalRounds(spec),
        run: roundsRun,
        chosen: chosenRound,
        chosenOn: (spec.earlyStopping || spec.generatorPhase) && best ? best.selectedOn : 'last',
        generatorPhase: spec.generatorPhase?.rounds ?? 0,
      },
      headlineMetric: study.headlineMetric,
      federated: figures(metrics, dataset.importanceAxis?.names),
      baselines,
      baselinesNote: baselines ? (study.baselines?.note ?? null) : null,
      history,
      backend: String(running.store.listContributions(created.id, 1, 'train')[0]?.metrics['backend'] ?? 'see the node logs'),
      wallSeconds: Math.round((performance.now() - started) / 100) / 10,
      bytesSentPerNodePerRound: Math.round(perNode.reduce((a, b) => a + b, 0) / Math.max(1, perNode.length) / Math.max(1, roundsRun)),
      modelDir,
      auditLogs: [running.auditLogPath, ...study.sites.map((s) => join(workdir, 'nodes', s, 'state', 'audit.jsonl'))],
      workdir,
    };
    print(formatStudySummary(summary));
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

function saveChosenModel(running: RunningCoordinator, studyId: string, version: number, study: StudyDefinition, seed: number, dir: string, metrics: StudyMetrics): void {
  const stored = running.store.getModelVersion(studyId, version);
  const initial = running.store.getModelVersion(studyId, 0);
  if (!stored) throw new DemoError(`study ${studyId} has no model version ${version} to save`);
  const spec = running.store.getStudy(studyId)?.spec;
  if (!spec) throw new DemoError(`study ${studyId} is gone`);
  saveModelArtifact(dir, {
    study: study.name,
    spec: spec.model,
    weights: decodeTensors(stored.weights),
    statistics: (initial?.metrics?.['featureStatistics'] as unknown as FeatureStatistics | undefined) ?? null,
    metadata: {
      studyId,
      version,
      seed,
      dataset: study.dataset,
      pooledAuc: metrics.pooled.auc,
      pooledAccuracy: metrics.pooled.accuracy,
      // So that `medfed evaluate` re-runs the study's own train-on-synthetic check.
      ...(spec.syntheticEvaluation ? { syntheticEvaluation: { ...spec.syntheticEvaluation } } : {}),
      savedAt: new Date().toISOString(),
    },
  });
}

function watch(running: RunningCoordinator, studyId: string, spec: StudySpec, history: StudyDemoSummary['history'], print: (line: string) => void): Promise<void> {
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(3));
  const rounds = totalRounds(spec);
  const onTrained = (round: number, trainLoss: number | null): void => {
    // Generator-phase rounds are not evaluated one by one (the classifier does not change in them).
    if (isGeneratorRound(spec, round) && round < rounds) print(`round ${String(round).padStart(3)}/${rounds}  generator phase, train loss ${trainLoss?.toFixed(4) ?? 'hidden'} (the discriminator's; the autoencoder's while it warms up)`);
  };
  return watchStudyRounds(running, studyId, print, (round, metrics, trainLoss) => {
    const m = metrics.study;
    history.push({ round, validationLoss: round4(m.validationLoss), pooledAuc: round4(m.pooled.auc), pooledAccuracy: round4(m.pooled.accuracy) });
    print(
      `round ${String(round).padStart(3)}/${rounds}  train loss ${trainLoss?.toFixed(4) ?? 'hidden'}  validation loss ${m.validationLoss?.toFixed(4) ?? 'n/a'}  ` +
        `test AUC pooled ${pct(m.pooled.auc)}, worst site ${m.worstSite ? `${m.worstSite.name} ${pct(m.worstSite.value)}` : 'n/a'}`,
    );
  }, onTrained);
}

const cell = (x: number | null | undefined, width = 9): string => (x === null || x === undefined ? 'n/a' : x.toFixed(3)).padStart(width);

/** The summary as a plain-text table: per site, pooled, mean and worst site, beside the baselines. */
export function formatStudySummary(s: StudyDemoSummary): string {
  const metric = s.headlineMetric;
  const lines: string[] = [];
  lines.push('');
  lines.push(`${s.study}: ${s.description}`);
  lines.push(`rounds run ${s.rounds.run} of ${s.rounds.planned}; model of round ${s.rounds.chosen} (chosen on ${s.rounds.chosenOn}); ${s.strategy}${s.secureAggregation ? ' + secure aggregation' : ''}${s.federatedStatistics ? ' + federated statistics' : ''}`);
  lines.push(`${'site'.padEnd(14)}${'n test'.padStart(8)}${`fed ${metric}`.padStart(13)}${`local`.padStart(9)}${`central`.padStart(9)}${'min(Se,PPV)'.padStart(13)}${'ECE'.padStart(8)}`);
  for (const site of s.federated.sites) {
    const local = s.baselines?.local.sites.find((x) => x.name === site.name);
    const central = s.baselines?.centralised.sites.find((x) => x.name === site.name);
    lines.push(
      `${site.name.padEnd(14)}${String(site.numExamples).padStart(8)}${cell(site[metric], 13)}${cell(local?.[metric])}${cell(central?.[metric])}${cell(site.minSePpv, 13)}${cell(site.calibrationError, 8)}`,
    );
  }
  lines.push(`${'pooled'.padEnd(14)}${''.padStart(8)}${cell(s.federated.pooled[metric], 13)}${cell(s.baselines?.local.pooled[metric])}${cell(s.baselines?.centralised.pooled[metric])}${cell(s.federated.pooled.minSePpv, 13)}${cell(s.federated.pooled.calibrationError, 8)}`);
  lines.push(`${'mean of sites'.padEnd(14)}${''.padStart(8)}${cell(s.federated.meanSite[metric], 13)}${cell(s.baselines?.local.meanSite[metric])}${cell(s.baselines?.centralised.meanSite[metric])}`);
  if (s.federated.worstSite) lines.push(`worst site: ${s.federated.worstSite.name} (${s.federated.worstSite.metric} ${s.federated.worstSite.value.toFixed(3)})`);
  for (const [group, auc] of Object.entries(s.federated.pooled.groups)) lines.push(`pooled AUC of '${group}': ${cell(auc, 0)}`);
  if (s.baselines && s.baselinesNote) lines.push(`baselines: ${s.baselinesNote}`);
  if (s.federated.importance.length > 0) {
    lines.push(`permutation importance (mean loss increase, all sites): ${s.federated.importance.slice(0, 5).map((f) => `${f.feature} ${f.meanLossIncrease.toFixed(3)}`).join(', ')}`);
  }
  for (const [name, rate] of Object.entries(s.federated.pooled.rates)) {
    lines.push(`${name}: federated ${rate.toFixed(3)}${s.baselines ? `, local ${cell(s.baselines.local.pooled.rates[name], 0)}, centralised ${cell(s.baselines.centralised.pooled.rates[name], 0)}` : ''}`);
  }
  lines.push(`wall time ${s.wallSeconds} s; ${(s.bytesSentPerNodePerRound / 1024).toFixed(1)} KiB sent per node per round; backend ${s.backend}`);
  return lines.join('\n');
}

/** `medfed evaluate`'s table: per site, pooled, mean and worst site. */
export function formatEvaluation(result: SavedModelEvaluation, metric: 'accuracy' | 'auc'): string {
  const f = figures(result.metrics);
  const lines = [`model ${result.modelDir} (study ${result.study}) on ${result.dataDir}`];
  const other = metric === 'auc' ? 'accuracy' : 'auc';
  lines.push(`${'site'.padEnd(14)}${'n test'.padStart(8)}${metric.padStart(10)}${other.padStart(10)}${'min(Se,PPV)'.padStart(13)}${'ECE'.padStart(8)}`);
  for (const s of f.sites) {
    lines.push(`${s.name.padEnd(14)}${String(s.numExamples).padStart(8)}${s.suppressed ? '  suppressed (below the minimum cohort)' : `${cell(s[metric], 10)}${cell(s[other], 10)}${cell(s.minSePpv, 13)}${cell(s.calibrationError, 8)}`}`);
  }
  lines.push(`${'pooled'.padEnd(14)}${''.padStart(8)}${cell(f.pooled[metric], 10)}${cell(f.pooled[other], 10)}${cell(f.pooled.minSePpv, 13)}${cell(f.pooled.calibrationError, 8)}`);
  if (f.worstSite) lines.push(`worst site: ${f.worstSite.name} (${f.worstSite.metric} ${f.worstSite.value.toFixed(3)})`);
  for (const [name, rate] of Object.entries(f.pooled.rates)) lines.push(`${name}: ${rate.toFixed(3)}`);
  for (const [group, auc] of Object.entries(f.pooled.groups)) lines.push(`pooled AUC of '${group}': ${cell(auc, 0)}`);
  return lines.join('\n');
}
