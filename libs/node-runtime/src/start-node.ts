import { join } from 'node:path';
import { AuditLog, readAuditLog } from '@medfed/audit';
import { keyFingerprint, loadIdentity, fromBase64 } from '@medfed/crypto';
import { initBackend } from '@medfed/models';
import { JsonLinesLogger, Logger } from '@medfed/observability';
import { loadLocalData } from './local-data';
import { LocalTrainer } from './local-trainer';
import { NODE_SOFTWARE_VERSION, NodeClient } from './node-client';
import { NodeConfig } from './node-config';

/** A started node and how to stop it. */
export interface RunningNode {
  client: NodeClient;
  backend: string;
  /** The node's own signed, hash-chained record of everything it did and sent. */
  auditLogPath: string;
  stop(): Promise<void>;
}

/**
 * Starts a hospital node: picks the TensorFlow.js backend (native where installed, else
 * WebAssembly), loads and checks the local data, then connects. Fails fast, with a named error, on
 * a bad key file, unusable data or a backend override that cannot be honoured.
 */
export async function startNode(config: NodeConfig, logger: Logger = new JsonLinesLogger(`node:${config.name}`)): Promise<RunningNode> {
  const identity = loadIdentity(config.identityFile);
  const backend = await initBackend(config.backend);
  logger.info('node.starting', { name: config.name, backend: backend.name, native: backend.native, coordinatorUrl: config.coordinatorUrl });
  const audit = AuditLog.open(config.auditLogPath ?? join(config.stateDir, 'audit.jsonl'), identity);
  const alreadyAudited = readAuditLog(audit.path)
    .filter((e) => e.event === 'manifest.approved' || e.event === 'manifest.revoked')
    .map((e) => `${String(e.details['manifestSha256'])}@${String(e.details['at'])}`);
  audit.append('node.started', { name: config.name, backend: backend.name, softwareVersion: NODE_SOFTWARE_VERSION });
  audit.append('config.loaded', {
    coordinatorUrl: config.coordinatorUrl,
    coordinator: keyFingerprint(fromBase64(config.coordinatorSigningPublicKey)),
    dataset: config.data.dataset,
    minCohortSize: config.policy.minCohortSize,
    allowedDatasets: config.policy.allowedDatasets,
    allowedModelFamilies: config.policy.allowedModelFamilies,
    maxLocalSteps: config.policy.maxLocalSteps,
    autoApprove: config.policy.autoApprove ? { ...config.policy.autoApprove } : null,
  });
  const data = loadLocalData(config.data);
  // Split sizes only: never a value, a record id or anything else about a patient.
  logger.info('data.loaded', { dataset: data.dataset.dataset, site: data.siteName, ...data.site.sizes });
  const client = new NodeClient(config, identity, new LocalTrainer(data, config.name), logger, backend.name, audit);
  client.markDecisionsAudited(alreadyAudited);
  void client.start();
  return {
    client,
    backend: backend.name,
    auditLogPath: audit.path,
    stop: async () => {
      await client.close();
      audit.close();
    },
  };
}

/** Runs a node as a process until SIGINT/SIGTERM, then disconnects cleanly. */
export async function runNodeProcess(config: NodeConfig): Promise<RunningNode> {
  const node = await startNode(config);
  const stop = (): void => {
    void node.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return node;
}
