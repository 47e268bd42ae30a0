import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createIdentityFiles, keyFingerprint, randomBytes, toBase64 } from '@medfed/crypto';
import { CoordinatorConfig, CoordinatorConfigError, DEFAULT_MAX_FRAME_BYTES } from './coordinator-config';

/** Files made by `initCoordinator`. */
export interface InitializedCoordinator {
  configPath: string;
  identityPath: string;
  publicIdentityPath: string;
  signingPublicKey: string;
  fingerprint: string;
  adminToken: string;
  privacyOfficerToken: string;
}

/**
 * Creates a coordinator folder: a fresh identity (0600), its public half for nodes to pin, and a
 * config with a random operator token. Refuses to overwrite an existing config.
 */
export function initCoordinator(dir: string, options: { host?: string; port?: number; maxFrameBytes?: number } = {}): InitializedCoordinator {
  const root = resolve(dir);
  const configPath = join(root, 'coordinator.json');
  if (existsSync(configPath)) throw new CoordinatorConfigError(`${configPath} already exists; refusing to overwrite a coordinator`);
  mkdirSync(root, { recursive: true });
  const identityPath = join(root, 'identity.json');
  const publicIdentityPath = join(root, 'coordinator.public.json');
  const identity = createIdentityFiles(identityPath, publicIdentityPath);
  const adminToken = Buffer.from(randomBytes(24)).toString('base64url');
  const privacyOfficerToken = Buffer.from(randomBytes(24)).toString('base64url');
  const config: CoordinatorConfig = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 7400,
    databasePath: 'coordinator.sqlite',
    identityFile: 'identity.json',
    adminToken,
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    maxSkewMs: 300_000,
    auditLogPath: 'coordinator-audit.jsonl',
    privacyOfficerToken,
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return {
    configPath,
    identityPath,
    publicIdentityPath,
    signingPublicKey: toBase64(identity.signing.publicKey),
    fingerprint: keyFingerprint(identity.signing.publicKey),
    adminToken,
    privacyOfficerToken,
  };
}
