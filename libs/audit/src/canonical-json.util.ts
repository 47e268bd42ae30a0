// Canonical JSON lives in the protocol lib, where manifests are hashed too; the audit log uses the same text.
export { canonicalJson, isPlainObject } from '@medfed/protocol';
