import { canonicalJson } from './canonical-json.util';
import { StudySpec } from './study';
import { sha256Hex } from '@medfed/crypto';

/** Format tag of a study manifest; a change of format is a change of hash. */
export const MANIFEST_FORMAT = 'medfed-manifest/1';

/**
 * What a hospital approves: everything that decides what runs on its data and what leaves it — the
 * study's id and its whole spec (model, training, strategy, rounds, minimum sites, data set). Any
 * change to any field is a different manifest, with a different hash, needing a new approval.
 */
export interface StudyManifest {
  format: typeof MANIFEST_FORMAT;
  studyId: string;
  spec: StudySpec;
}

/** The manifest of a study. */
export function studyManifest(studyId: string, spec: StudySpec): StudyManifest {
  return { format: MANIFEST_FORMAT, studyId, spec };
}

/** SHA-256 (hex) of the manifest's canonical JSON (RFC 8785): the identity a node approves. */
export function manifestSha256(manifest: StudyManifest): string {
  return sha256Hex(Buffer.from(canonicalJson(manifest, 'manifest'), 'utf8'));
}
