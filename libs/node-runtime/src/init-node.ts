import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createIdentityFiles, keyFingerprint, toBase64 } from '@medfed/crypto';
import { DEFAULT_POLICY, NodeConfigError, LocalPolicy } from './node-config';
import { BackendPreference } from '@medfed/models';
import type { DatasetName } from '@medfed/protocol';

/** What `initNode` needs to know about the hospital and its coordinator. */
export interface InitNodeOptions {
  name: string;
  coordinatorUrl: string;
  /** The coordinator's Ed25519 public key (base64), obtained out of band and pinned. */
  coordinatorSigningPublicKey: string;
  dataPath: string;
  center: string;
  /** The data set this node holds; default fed-heart-disease. */
  dataset?: DatasetName;
  /** How a single-file data set is divided among sites (BreastMNIST: even or skewed). */
  partition?: string;
  enrolmentToken?: string;
  backend?: BackendPreference;
  policy?: Partial<LocalPolicy>;
}

/** Files made by `initNode`. */
export interface InitializedNode {
  configPath: string;
  identityPath: string;
  /** Give this file to the coordinator's operator to enrol the node. */
  publicIdentityPath: string;
  signingPublicKey: string;
  encryptionPublicKey: string;
  fingerprint: string;
}

/** Creates a node folder: a fresh identity (0600), its public half, and the node's config. */
export function initNode(dir: string, options: InitNodeOptions): InitializedNode {
  const root = resolve(dir);
  const configPath = join(root, 'node.json');
  if (existsSync(configPath)) throw new NodeConfigError(`${configPath} already exists; refusing to overwrite a node`);
  mkdirSync(root, { recursive: true });
  const identityPath = join(root, 'identity.json');
  const publicIdentityPath = join(root, 'node.public.json');
  const identity = createIdentityFiles(identityPath, publicIdentityPath);
  const config = {
    name: options.name,
    coordinatorUrl: options.coordinatorUrl,
    coordinatorSigningPublicKey: options.coordinatorSigningPublicKey,
    identityFile: 'identity.json',
    ...(options.enrolmentToken ? { enrolmentToken: options.enrolmentToken } : {}),
    data: {
      dataset: options.dataset ?? 'fed-heart-disease',
      path: relative(root, resolve(options.dataPath)) || '.',
      center: options.center,
      ...(options.partition ? { partition: options.partition } : {}),
    },
    // By default a node only takes part in studies of the data set it holds.
    policy: { ...DEFAULT_POLICY, allowedDatasets: [options.dataset ?? 'fed-heart-disease'], ...options.policy },
    backend: options.backend ?? 'auto',
    stateDir: 'state',
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return {
    configPath,
    identityPath,
    publicIdentityPath,
    signingPublicKey: toBase64(identity.signing.publicKey),
    encryptionPublicKey: toBase64(identity.encryption.publicKey),
    fingerprint: keyFingerprint(identity.signing.publicKey),
  };
}
