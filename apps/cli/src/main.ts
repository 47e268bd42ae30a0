import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { AdminClient } from '@medfed/coordinator-api';
import { DATASETS, DatasetName, STRATEGIES, StrategyName, totalRounds } from '@medfed/protocol';
import { formatStudyStatus } from './study-status.format';

// Each action loads only what it needs: `medfed --help` should not start TensorFlow.js or NestJS.
const coordinatorApi = () => import('@medfed/coordinator-api');
const nodeRuntime = () => import('@medfed/node-runtime');
const demo = () => import('@medfed/demo');
const crypto = () => import('@medfed/crypto');
const auditLib = () => import('@medfed/audit');

const int = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got ${value}`);
  return n;
};

/** REST connection options shared by the operator commands; env vars keep tokens off the command line. */
function adminOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'coordinator URL (default: from --coordinator-config, else http://127.0.0.1:7400)').env('MEDFED_URL'))
    .addOption(new Option('--token <token>', 'operator token (adminToken in coordinator.json)').env('MEDFED_ADMIN_TOKEN'))
    .option('--coordinator-config <file>', 'read the operator token and port from this coordinator.json');
}

async function adminClient(opts: { url?: string; token?: string; coordinatorConfig?: string }): Promise<AdminClient> {
  const { AdminClient } = await coordinatorApi();
  let { url, token } = opts;
  if (opts.coordinatorConfig) {
    const cfg = JSON.parse(readFileSync(opts.coordinatorConfig, 'utf8')) as { adminToken?: string; host?: string; port?: number };
    token = token ?? cfg.adminToken;
    // An explicit --url wins: a coordinator listening on 0.0.0.0 is reached by its public name.
    const host = !cfg.host || cfg.host === '0.0.0.0' || cfg.host === '::' ? '127.0.0.1' : cfg.host;
    url = url ?? (cfg.port ? `http://${host}:${cfg.port}` : undefined);
  }
  if (!token) throw new Error('an operator token is required: --token, MEDFED_ADMIN_TOKEN or --coordinator-config');
  return new AdminClient(url ?? 'http://127.0.0.1:7400', token);
}

const printJson = (value: unknown): void => {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
};

/** Builds the `medfed` command tree. */
export function buildCli(): Command {
  const program = new Command('medfed')
    .description('Federated learning for hospitals: train shared models without moving a single patient record.')
    .showHelpAfterError();

  // ---- coordinator ----
  const coordinator = program.command('coordinator').description('run the coordinator that launches rounds and combines updates');
  coordinator
    .command('init')
    .description('create a coordinator folder: identity keys, public key file for nodes to pin, config with an operator token')
    .requiredOption('--dir <dir>', 'folder to create')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', int('port'), 7400)
    .action(async (o: { dir: string; host: string; port: number }) => {
      const { initCoordinator } = await coordinatorApi();
      const made = initCoordinator(o.dir, { host: o.host, port: o.port });
      process.stdout.write(
        `coordinator created in ${o.dir}\n  config:      ${made.configPath}\n  public keys: ${made.publicIdentityPath} (give this to each hospital to pin)\n` +
          `  signing key: ${made.signingPublicKey}\n  fingerprint: ${made.fingerprint}\n  operator token: in the config (adminToken)\n`,
      );
    });
  coordinator
    .command('start')
    .description('start the coordinator (Socket.IO gateway for nodes, REST API and OpenAPI docs at /api/docs)')
    .requiredOption('--config <file>', 'coordinator.json')
    .action(async (o: { config: string }) => {
      const { loadCoordinatorConfig, runCoordinatorProcess } = await coordinatorApi();
      await runCoordinatorProcess(loadCoordinatorConfig(o.config));
    });

  // ---- node ----
  const node = program.command('node').description('run a hospital node');
  node
    .command('init')
    .description("create a node folder: identity keys, public key file for the coordinator's operator, config with the local policy")
    .requiredOption('--dir <dir>', 'folder to create')
    .requiredOption('--name <name>', 'site name, e.g. cleveland')
    .requiredOption('--coordinator-url <url>', 'e.g. https://coordinator.example.org:7400')
    .option('--coordinator-key <base64>', "the coordinator's Ed25519 public key, to pin")
    .option('--coordinator-public <file>', 'coordinator.public.json, instead of --coordinator-key')
    .requiredOption('--data <path>', "folder with the data set's files")
    .addOption(new Option('--dataset <name>', 'the data set this node holds').choices([...DATASETS]).default('fed-heart-disease'))
    .requiredOption('--center <site>', 'this site within the data set (fed-heart-disease: cleveland | hungarian | switzerland | va; physionet-2012: icu-1..icu-4; …)')
    .option('--partition <name>', 'how a single-file data set is divided among sites (breastmnist: even | skewed)')
    .option('--enrolment-token <token>', 'one-time enrolment token from the coordinator operator')
    .addOption(new Option('--backend <backend>', 'TensorFlow.js backend (an override that cannot be honoured is a start-up error)').choices(['auto', 'gpu', 'native', 'wasm', 'cpu']).default('auto'))
    .action(async (o: { dir: string; name: string; coordinatorUrl: string; coordinatorKey?: string; coordinatorPublic?: string; data: string; dataset: DatasetName; center: string; partition?: string; enrolmentToken?: string; backend: 'auto' | 'gpu' | 'native' | 'wasm' | 'cpu' }) => {
      const { loadPublicIdentity, toBase64 } = await crypto();
      const { initNode } = await nodeRuntime();
      const key = o.coordinatorKey ?? (o.coordinatorPublic ? toBase64(loadPublicIdentity(o.coordinatorPublic).signingPublicKey) : undefined);
      if (!key) throw new Error('pin the coordinator: --coordinator-key or --coordinator-public');
      const made = initNode(o.dir, {
        name: o.name,
        coordinatorUrl: o.coordinatorUrl,
        coordinatorSigningPublicKey: key,
        dataPath: o.data,
        dataset: o.dataset,
        center: o.center,
        ...(o.partition ? { partition: o.partition } : {}),
        enrolmentToken: o.enrolmentToken,
        backend: o.backend,
      });
      process.stdout.write(
        `node created in ${o.dir}\n  config:      ${made.configPath}\n  public keys: ${made.publicIdentityPath} (send to the coordinator's operator: medfed nodes enrol)\n  fingerprint: ${made.fingerprint}\n`,
      );
    });
  node
    .command('start')
    .description('start the node: connect, authenticate, answer rounds until stopped')
    .requiredOption('--config <file>', 'node.json')
    .action(async (o: { config: string }) => {
      const { loadNodeConfig, runNodeProcess } = await nodeRuntime();
      await runNodeProcess(loadNodeConfig(o.config));
    });

  const nodeState = async (configPath: string) => {
    const { loadNodeConfig, ManifestApprovals } = await nodeRuntime();
    const config = loadNodeConfig(configPath);
    return { config, approvals: new ManifestApprovals(config.stateDir) };
  };
  node
    .command('manifests')
    .description('list the study manifests this node has approved, revoked, or seen in a task and not yet decided')
    .requiredOption('--config <file>', 'node.json')
    .action(async (o: { config: string }) => {
      const { approvals } = await nodeState(o.config);
      const latest = new Map(approvals.decisions().map((d) => [d.manifestSha256, d]));
      for (const d of latest.values()) process.stdout.write(`${d.decision.padEnd(9)} ${d.manifestSha256}  study ${d.studyId}  by ${d.by} at ${d.at}\n`);
      for (const p of approvals.listPending()) process.stdout.write(`pending   ${p.manifestSha256}  study ${p.manifest.studyId}  (seen in a task; inspect, then approve)\n`);
    });
  node
    .command('inspect')
    .description('show a manifest in readable form')
    .argument('<sha>', 'manifest SHA-256 (or a unique prefix)')
    .requiredOption('--config <file>', 'node.json')
    .action(async (sha: string, o: { config: string }) => {
      const { describeManifest } = await nodeRuntime();
      const { approvals } = await nodeState(o.config);
      const found = approvals.pending(sha)?.manifest ?? approvals.decisions().find((d) => d.manifestSha256.startsWith(sha))?.manifest;
      if (!found) throw new Error(`no manifest ${sha} is known to this node`);
      process.stdout.write(describeManifest(found) + '\n');
    });
  node
    .command('approve')
    .description('approve exactly one manifest (by hash, from those seen in tasks, or from a signed manifest file)')
    .argument('[sha]', 'manifest SHA-256 (or a unique prefix) of a pending manifest')
    .requiredOption('--config <file>', 'node.json')
    .option('--file <file>', 'a signed manifest from `medfed study manifest ID`, checked against the pinned coordinator key')
    .option('--by <name>', 'who approves (recorded in the audit log)', process.env['USER'] ?? 'operator')
    .action(async (sha: string | undefined, o: { config: string; file?: string; by: string }) => {
      const { approveSignedManifest } = await nodeRuntime();
      const { config, approvals } = await nodeState(o.config);
      let record;
      if (o.file) {
        record = approveSignedManifest(approvals, JSON.parse(readFileSync(o.file, 'utf8')), config.coordinatorSigningPublicKey, o.by, config.policy);
      } else {
        const pending = sha ? approvals.pending(sha) : null;
        if (!pending) throw new Error(sha ? `no single pending manifest matches ${sha}` : 'give a manifest hash or --file');
        record = approvals.approve(pending.manifest, o.by);
      }
      process.stdout.write(`approved ${record.manifestSha256} (study ${record.studyId}) by ${record.by}\n`);
    });
  node
    .command('revoke')
    .description('revoke an approval: the node declines the study from its next task on')
    .argument('<sha>', 'manifest SHA-256 (or a unique prefix)')
    .requiredOption('--config <file>', 'node.json')
    .option('--by <name>', 'who revokes (recorded in the audit log)', process.env['USER'] ?? 'operator')
    .action(async (sha: string, o: { config: string; by: string }) => {
      const { approvals } = await nodeState(o.config);
      const full = approvals.decisions().find((d) => d.manifestSha256.startsWith(sha))?.manifestSha256 ?? approvals.pending(sha)?.manifestSha256;
      if (!full) throw new Error(`no manifest ${sha} is known to this node`);
      const record = approvals.revoke(full, o.by);
      process.stdout.write(`revoked ${record.manifestSha256} (study ${record.studyId})\n`);
    });

  // ---- nodes (operator) ----
  const nodes = program.command('nodes').description("manage the coordinator's allow-list of hospital nodes (REST)");
  adminOptions(nodes.command('list').description('list enrolled nodes and whether each is connected')).action(async (o) => {
    const list = await (await adminClient(o)).listNodes();
    for (const n of list) process.stdout.write(`${n.id}  ${n.name.padEnd(16)} ${n.status.padEnd(9)} ${n.connected ? 'connected' : 'offline'}\n`);
  });
  adminOptions(
    nodes
      .command('enrol')
      .description("put a node's public keys on the allow-list")
      .requiredOption('--public-identity <file>', 'node.public.json made by `medfed node init`')
      .requiredOption('--name <name>', 'site name'),
  ).action(async (o: { publicIdentity: string; name: string; url?: string; token?: string; coordinatorConfig?: string }) => {
    const { loadPublicIdentity, toBase64 } = await crypto();
    const pub = loadPublicIdentity(o.publicIdentity);
    printJson(await (await adminClient(o)).enrolNode({ name: o.name, signingPublicKey: toBase64(pub.signingPublicKey), encryptionPublicKey: toBase64(pub.encryptionPublicKey) }));
  });
  adminOptions(nodes.command('revoke').description('revoke a node').argument('<id>', 'node id (key fingerprint)')).action(
    async (id: string, o) => printJson(await (await adminClient(o)).revokeNode(id)),
  );
  adminOptions(
    nodes
      .command('token')
      .description('issue a one-time enrolment token for a site')
      .requiredOption('--name <name>', 'site name')
      .option('--ttl <seconds>', 'validity', int('ttl'), 86400),
  ).action(async (o: { name: string; ttl: number; url?: string; token?: string; coordinatorConfig?: string }) => printJson(await (await adminClient(o)).createEnrolmentToken(o.name, o.ttl)));

  // ---- study (operator) ----
  const study = program.command('study').description('define, launch and follow studies (REST)');
  adminOptions(
    study
      .command('create')
      .description('create a study from a JSON spec, or the demo preset')
      .option('--spec <file>', 'StudySpec JSON file (see docs/architecture.md)')
      .option('--preset <name>', 'heart-fedavg (the demo study), or a study name: breast-ultrasound, icu-mortality, diabetes-treatment, tox21-gan')
      .option('--rounds <n>', 'override the number of rounds', int('rounds')),
  ).action(async (o: { spec?: string; preset?: string; rounds?: number; url?: string; token?: string; coordinatorConfig?: string }) => {
    let spec;
    if (o.spec) spec = JSON.parse(readFileSync(o.spec, 'utf8'));
    else if (o.preset === 'heart-fedavg') spec = (await demo()).heartDemoStudy({ rounds: o.rounds });
    else if (o.preset) spec = (await import('@medfed/studies')).studyDefinition(o.preset).spec('full');
    else throw new Error('give --spec FILE or --preset NAME');
    if (o.rounds !== undefined) spec.rounds = o.rounds;
    const created = await (await adminClient(o)).createStudy(spec);
    process.stdout.write(`study ${created.id} created (${created.spec.rounds} rounds); launch it with: medfed study launch ${created.id}\n`);
  });
  adminOptions(study.command('launch').description('launch a created study').argument('<id>', 'study id')).action(async (id: string, o) => {
    const launched = await (await adminClient(o)).launchStudy(id);
    process.stdout.write(`study ${launched.id} is ${launched.status}\n`);
  });
  adminOptions(study.command('stop').description('stop a running study').argument('<id>', 'study id')).action(async (id: string, o) =>
    printJson(await (await adminClient(o)).stopStudy(id)),
  );
  adminOptions(study.command('manifest').description("print the study's signed manifest, for each hospital to inspect and approve").argument('<id>', 'study id')).action(
    async (id: string, o) => printJson(await (await adminClient(o)).studyManifest(id)),
  );
  adminOptions(study.command('resume').description('resume a stopped study').argument('<id>', 'study id')).action(async (id: string, o) =>
    printJson(await (await adminClient(o)).resumeStudy(id)),
  );
  adminOptions(
    study
      .command('rollback')
      .description('make a model version current (study not running): the next round starts from it')
      .argument('<id>', 'study id')
      .requiredOption('--version <n>', 'model version', int('version')),
  ).action(async (id: string, o: { version: number; url?: string; token?: string; coordinatorConfig?: string }) =>
    printJson(await (await adminClient(o)).rollbackStudy(id, o.version)),
  );
  adminOptions(study.command('list').description('list studies')).action(async (o) => {
    for (const s of await (await adminClient(o)).listStudies()) process.stdout.write(`${s.id.padEnd(32)} ${s.status.padEnd(10)} round ${s.currentRound}/${totalRounds(s.spec)}\n`);
  });
  adminOptions(
    study
      .command('status')
      .description("a study's rounds: participation, duration and metrics per site")
      .argument('<id>', 'study id')
      .option('--json', 'print the raw status as JSON')
      .option('--watch', 'refresh every 2 s until the study ends'),
  ).action(async (id: string, o: { json?: boolean; watch?: boolean; url?: string; token?: string; coordinatorConfig?: string }) => {
    const client = await adminClient(o);
    for (;;) {
      const status = await client.studyStatus(id);
      if (o.json) printJson(status);
      else process.stdout.write(formatStudyStatus(status) + '\n');
      if (!o.watch || status.study.status !== 'running') return;
      await new Promise((r) => setTimeout(r, 2000));
    }
  });

  // ---- audit (privacy officer) ----
  const audit = program.command('audit').description("verify, summarise and export an audit log (a node's or the coordinator's), without trusting anyone");
  audit
    .command('verify')
    .description('check the hash chain and every signature; exit 0 only when the whole log verifies')
    .argument('<path>', 'audit log (JSON Lines)')
    .option('--signer <base64>', "pin the expected signer's Ed25519 public key (default: the first entry's signer)")
    .option('--last-receipt <seq:hash>', 'an entry a receipt or an earlier export vouched for, to detect a cut-off tail')
    .action(async (path: string, o: { signer?: string; lastReceipt?: string }) => {
      const { verifyAuditLog } = await auditLib();
      let lastReceipt: { seq: number; hash: string } | undefined;
      if (o.lastReceipt) {
        const [seq, hash] = o.lastReceipt.split(':');
        lastReceipt = { seq: Number(seq), hash };
      }
      const result = verifyAuditLog(path, { expectedSigner: o.signer, lastReceipt });
      if (result.ok) {
        process.stdout.write(`OK: ${result.entries} entries, chain and signatures verified; signer ${result.signer}; last hash ${result.lastHash}\n`);
        return;
      }
      const p = result.firstProblem;
      process.stdout.write(`FAILED at entry ${p?.seq ?? '?'} (line ${p?.line ?? '?'}): ${p?.reason}: ${p?.message}\n`);
      process.exitCode = 1;
    });
  audit
    .command('report')
    .description('a readable summary: approvals, what left (messages, bytes, to whom, per study), privacy budget, refusals')
    .argument('<path>', 'audit log (JSON Lines)')
    .option('--since <date>', 'only entries at or after this date (ISO 8601)')
    .option('--study <id>', 'only this study')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'json', 'csv']).default('md'))
    .action(async (path: string, o: { since?: string; study?: string; format: 'md' | 'json' | 'csv' }) => {
      const { buildAuditReport, formatAuditReport, readAuditLog, verifyAuditLog } = await auditLib();
      const verified = verifyAuditLog(path);
      if (!verified.ok) process.stderr.write(`warning: this log does not verify (${verified.firstProblem?.reason} at entry ${verified.firstProblem?.seq}); run medfed audit verify\n`);
      const since = o.since ? new Date(o.since) : undefined;
      if (since && Number.isNaN(since.getTime())) throw new Error(`--since is not a date: ${o.since}`);
      process.stdout.write(formatAuditReport(buildAuditReport(readAuditLog(path), { since, studyId: o.study }), o.format) + '\n');
      if (!verified.ok) process.exitCode = 1;
    });
  audit
    .command('export')
    .description('write the log as JSON Lines that `medfed audit verify` accepts on its own (verified entries only)')
    .argument('<path>', 'audit log (JSON Lines)')
    .requiredOption('--out <file>', 'where to write the copy')
    .action(async (path: string, o: { out: string }) => {
      const { exportAuditLog } = await auditLib();
      const result = exportAuditLog(path, o.out);
      process.stdout.write(`${result.ok ? 'exported' : 'exported the verified part of'} ${result.entries} entries to ${o.out}\n`);
      if (!result.ok) process.exitCode = 1;
    });

  audit
    .command('reconcile')
    .description("check the coordinator's claims about this site against the site's own log and signed receipts")
    .requiredOption('--log <path>', "the site's audit log")
    .requiredOption('--receipts <path>', "the site's receipts.jsonl (signed receipts kept by the node)")
    .requiredOption('--claims <file>', "the coordinator's account of this site (GET /api/audit/sites/:nodeId, as JSON)")
    .option('--coordinator-key <base64>', "the coordinator's Ed25519 public key (as pinned in node.json)")
    .option('--coordinator-public <file>', 'coordinator.public.json, instead of --coordinator-key')
    .action(async (o: { log: string; receipts: string; claims: string; coordinatorKey?: string; coordinatorPublic?: string }) => {
      const { readAuditLog, reconcileWithCoordinator, verifyAuditLog } = await auditLib();
      const { loadPublicIdentity, toBase64 } = await crypto();
      const key = o.coordinatorKey ?? (o.coordinatorPublic ? toBase64(loadPublicIdentity(o.coordinatorPublic).signingPublicKey) : undefined);
      if (!key) throw new Error("give the coordinator's key: --coordinator-key or --coordinator-public");
      const verified = verifyAuditLog(o.log);
      if (!verified.ok) throw new Error(`the site's audit log does not verify (${verified.firstProblem?.reason} at entry ${verified.firstProblem?.seq}); run medfed audit verify`);
      const receipts = readFileSync(o.receipts, 'utf8')
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .map((l) => (JSON.parse(l) as { receiptFrame?: string }).receiptFrame)
        .filter((f): f is string => typeof f === 'string');
      const claimsJson = JSON.parse(readFileSync(o.claims, 'utf8')) as { frames?: unknown[] } | unknown[];
      const claims = (Array.isArray(claimsJson) ? claimsJson : (claimsJson.frames ?? [])) as Parameters<typeof reconcileWithCoordinator>[2];
      const result = reconcileWithCoordinator(readAuditLog(o.log), receipts, claims, key);
      process.stdout.write(`${result.ok ? 'OK' : 'CONTRADICTED'}: ${result.claims} claims, ${result.receiptsVerified} signed receipts verified\n`);
      for (const p of result.problems) process.stdout.write(`  ${p.problem}: ${p.detail} ${p.sha256}\n`);
      if (!result.ok) process.exitCode = 1;
    });

  // ---- external validation ----
  program
    .command('evaluate')
    .description("evaluate a saved global model on another data folder of the study's format: the same per-site, pooled and worst-site metrics")
    .requiredOption('--study <name>', 'the study the model was trained in')
    .requiredOption('--model <dir>', 'folder written by demo --save-model (model.json + weights.bin)')
    .requiredOption('--data <dir>', "data folder of the study's format")
    .option('--sites <names>', 'comma-separated sites of the data set (default: all of the study)')
    .option('--min-cohort <n>', 'aggregates over fewer patients are not reported', int('min-cohort'), 10)
    .option('--json <file>', 'also write the metrics as JSON')
    .action(async (o: { study: string; model: string; data: string; sites?: string; minCohort: number; json?: string }) => {
      const { studyDefinition, datasetDefinition, evaluateSavedModel } = await import('@medfed/studies');
      const { initBackend } = await import('@medfed/models');
      const { formatEvaluation } = await demo();
      await initBackend('auto');
      const study = studyDefinition(o.study);
      const result = await evaluateSavedModel({
        study,
        dataset: datasetDefinition(study.dataset),
        modelDir: resolve(o.model),
        dataDir: resolve(o.data),
        ...(o.sites ? { sites: o.sites.split(',').map((x) => x.trim()) } : {}),
        minCohort: o.minCohort,
      });
      process.stdout.write(formatEvaluation(result, study.headlineMetric) + '\n');
      if (o.json) writeFileSync(o.json, JSON.stringify(result, null, 2) + '\n');
    });

  // ---- explanations at the node ----
  program
    .command('explain')
    .description("explain a saved model's prediction for one of this hospital's own test patients (LIME) and the site's permutation importance; runs locally, sends nothing")
    .requiredOption('--study <name>', 'the study the model was trained in')
    .requiredOption('--model <dir>', 'folder written by demo --save-model')
    .requiredOption('--data <dir>', "this hospital's data folder")
    .requiredOption('--site <name>', "this hospital's site within the data set")
    .option('--example <i>', "index (or comma-separated indices, for images) in the site's test split", '0')
    .option('--samples <n>', 'LIME perturbation samples', int('samples'), 1000)
    .option('--out <dir>', 'image studies: folder for the saliency and integrated-gradients PNGs', 'explanations')
    .option('--json <file>', 'also write the explanation as JSON (keep it inside the hospital)')
    .action(async (o: { study: string; model: string; data: string; site: string; example: string; samples: number; out: string; json?: string }) => {
      const { studyDefinition, datasetDefinition, explainLocally, explainImages } = await import('@medfed/studies');
      const { initBackend } = await import('@medfed/models');
      await initBackend('auto');
      const study = studyDefinition(o.study);
      const examples = o.example.split(',').map((x) => {
        const n = Number(x.trim());
        if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`--example must be non-negative integers, got ${JSON.stringify(o.example)}`);
        return n;
      });
      if (!datasetDefinition(study.dataset).importanceAxis) {
        const images = await explainImages({ study, dataset: datasetDefinition(study.dataset), modelDir: resolve(o.model), dataDir: resolve(o.data), site: o.site, examples, outDir: resolve(o.out) });
        for (const f of images.files) {
          process.stdout.write(`test image ${f.example} (label ${f.label}, predicted ${f.probability.toFixed(3)}): ${f.gradientPng}, ${f.integratedGradientsPng} (completeness gap ${f.completenessGap.toExponential(1)})\n`);
        }
        process.stdout.write("written here from this hospital's images; nothing was sent.\n");
        if (o.json) writeFileSync(o.json, JSON.stringify(images, null, 2) + '\n');
        return;
      }
      const result = await explainLocally({ study, dataset: datasetDefinition(study.dataset), modelDir: resolve(o.model), dataDir: resolve(o.data), site: o.site, example: examples[0], samples: o.samples });
      const lines = [
        `${result.study}, site ${result.site}, test patient ${result.example} of ${result.testPatients}: predicted ${result.lime.prediction.map((p) => p.toFixed(3)).join(', ')}`,
        `LIME (local R² ${result.lime.localR2.toFixed(2)}; + raises the prediction of output 0):`,
        ...result.lime.weights.slice(0, 10).map((w) => `  ${w.name.padEnd(28)} ${w.weight >= 0 ? '+' : ''}${w.weight.toFixed(4)}`),
        `permutation importance at this site (mean loss increase):`,
        ...result.siteImportance.slice(0, 10).map((f) => `  ${f.name.padEnd(28)} ${f.meanLossIncrease.toFixed(4)}`),
        'computed here from this hospital\'s data; nothing was sent.',
      ];
      process.stdout.write(lines.join('\n') + '\n');
      if (o.json) writeFileSync(o.json, JSON.stringify(result, null, 2) + '\n');
    });

  // ---- demo ----
  program
    .command('demo')
    .description('run the whole federation on this machine: a coordinator and one node process per hospital (default: 4 hospitals, Fed-Heart-Disease)')
    .option('--study <name>', 'run one of the studies: heart-disease, breast-ultrasound, icu-mortality, diabetes-treatment, tox21-gan')
    .addOption(new Option('--size <size>', "with --study: the study's demo configuration, or the small one the tests use").choices(['full', 'fast']).default('full'))
    .option('--partition <name>', 'with --study breast-ultrasound: how the images are divided among the sites (even, skewed)')
    .option('--save-model <dir>', 'with --study: save the chosen global model (TensorFlow.js weights manifest + preprocessing statistics) here')
    .option('--no-baselines', 'with --study: skip the local-only and centralised baselines')
    .option('--json <file>', 'also write the summary as JSON')
    .option('--workdir <dir>', 'keep every process state and logs under this folder')
    .option('--rounds <n>', 'number of federated rounds', int('rounds'))
    .option('--seed <n>', 'seed of the initial model', int('seed'))
    .option('--data <dir>', 'Fed-Heart-Disease folder (default: data/fed-heart-disease)')
    .addOption(new Option('--strategy <name>', 'aggregation strategy').choices([...STRATEGIES]).default('fedavg'))
    .option('--no-secagg', 'run without secure aggregation (on by default where the strategy allows it)')
    .option('--dp-epsilon <epsilon>', 'also run the federation under client-level differential privacy with this total ε', (v: string) => {
      const e = Number(v);
      if (!(e > 0) || !Number.isFinite(e)) throw new InvalidArgumentError(`--dp-epsilon must be a positive number, got ${v}`);
      return e;
    })
    .action(async (o: { study?: string; size: 'full' | 'fast'; partition?: string; saveModel?: string; baselines: boolean; json?: string; workdir?: string; rounds?: number; seed?: number; data?: string; strategy: StrategyName; dpEpsilon?: number; secagg: boolean }) => {
      const { runHeartDemo, runStudyDemo } = await demo();
      if (o.study && o.study !== 'heart-disease') {
        await runStudyDemo({ study: o.study, size: o.size, partition: o.partition, saveModelDir: o.saveModel, skipBaselines: !o.baselines, jsonPath: o.json, workdir: o.workdir, dataDir: o.data });
        return;
      }
      await runHeartDemo({ jsonPath: o.json, workdir: o.workdir, rounds: o.rounds, seed: o.seed, dataDir: o.data, strategy: o.strategy, dpEpsilon: o.dpEpsilon, secureAggregation: o.secagg });
    });

  return program;
}

if (require.main === module || process.argv[1]?.endsWith('medfed.js')) {
  buildCli()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`medfed: error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
