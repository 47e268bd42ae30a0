import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureStatistics, ModelSpec } from '@medfed/protocol';

import { shapeSize, WeightTensor } from './weights.util';

/** The `format` of a saved medfed model's model.json. */
export const MODEL_ARTIFACT_FORMAT = 'medfed-model/1';

/** A trained global model with everything needed to use it elsewhere: architecture, weights, preprocessing. */
export interface ModelArtifact {
  /** The study it was trained in (its definition's name, e.g. `icu-mortality`). */
  study: string;
  spec: ModelSpec;
  weights: WeightTensor[];
  /** The global feature statistics the sites normalised with; null when each site normalised locally. */
  statistics: FeatureStatistics | null;
  /** Where it came from (study id, model version, round, metrics…): for the reader, never patient data. */
  metadata: Record<string, unknown>;
}

/** A saved model folder that cannot be read or does not match its own manifest. */
export class ModelArtifactError extends Error {
  override readonly name = 'ModelArtifactError';
}

interface ModelJson {
  format: string;
  study: string;
  modelSpec: ModelSpec;
  preprocessing: { featureStatistics: FeatureStatistics | null };
  /** TensorFlow.js's weights manifest: `tf.io.loadWeights`/`decodeWeights` read weights.bin with it. */
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: 'float32' }[] }[];
  weightsSha256: string;
  metadata: Record<string, unknown>;
}

/**
 * Writes `dir/model.json` and `dir/weights.bin` in TensorFlow.js's weights-manifest layout (little-endian
 * float32, tensors in getWeights() order), with the model spec and the preprocessing statistics beside them.
 */
export function saveModelArtifact(dir: string, artifact: ModelArtifact): { modelJsonPath: string; weightsPath: string } {
  mkdirSync(dir, { recursive: true });
  const total = artifact.weights.reduce((t, w) => t + w.data.length, 0);
  const bin = new Float32Array(total);
  let offset = 0;
  for (const w of artifact.weights) {
    bin.set(w.data, offset);
    offset += w.data.length;
  }
  const bytes = Buffer.from(bin.buffer, bin.byteOffset, bin.byteLength);
  const json: ModelJson = {
    format: MODEL_ARTIFACT_FORMAT,
    study: artifact.study,
    modelSpec: artifact.spec,
    preprocessing: { featureStatistics: artifact.statistics },
    weightsManifest: [{ paths: ['weights.bin'], weights: artifact.weights.map((w, i) => ({ name: `w${i}`, shape: [...w.shape], dtype: 'float32' })) }],
    weightsSha256: createHash('sha256').update(bytes).digest('hex'),
    metadata: artifact.metadata,
  };
  const modelJsonPath = join(dir, 'model.json');
  const weightsPath = join(dir, 'weights.bin');
  writeFileSync(weightsPath, bytes);
  writeFileSync(modelJsonPath, JSON.stringify(json, null, 2) + '\n');
  return { modelJsonPath, weightsPath };
}

/**
 * Reads a model saved by `saveModelArtifact`, checking the format, the weights' SHA-256 and their size.
 * @throws ModelArtifactError naming the file and the problem.
 */
export function loadModelArtifact(dir: string): ModelArtifact {
  const modelJsonPath = join(dir, 'model.json');
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as ModelJson;
  } catch (err) {
    throw new ModelArtifactError(`${modelJsonPath} cannot be read as JSON: ${(err as Error).message}`);
  }
  if (json.format !== MODEL_ARTIFACT_FORMAT) throw new ModelArtifactError(`${modelJsonPath} has format ${JSON.stringify(json.format)}, expected ${MODEL_ARTIFACT_FORMAT}`);
  const group = json.weightsManifest?.[0];
  if (!group || group.paths?.length !== 1 || !Array.isArray(group.weights)) throw new ModelArtifactError(`${modelJsonPath} has no usable weightsManifest`);
  const weightsPath = join(dir, group.paths[0]);
  let bytes: Buffer;
  try {
    bytes = readFileSync(weightsPath);
  } catch (err) {
    throw new ModelArtifactError(`${weightsPath} cannot be read: ${(err as Error).message}`);
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== json.weightsSha256) throw new ModelArtifactError(`${weightsPath} does not match model.json (SHA-256 ${sha.slice(0, 16)}…, expected ${String(json.weightsSha256).slice(0, 16)}…)`);
  const expected = group.weights.reduce((t, w) => t + shapeSize(w.shape), 0);
  if (bytes.length !== expected * 4) throw new ModelArtifactError(`${weightsPath} holds ${bytes.length} bytes; the manifest describes ${expected * 4}`);
  // Copy: a Buffer from readFileSync may start at an offset that is not a multiple of 4.
  const all = new Float32Array(new Uint8Array(bytes).buffer);
  let offset = 0;
  const weights = group.weights.map((w) => {
    const size = shapeSize(w.shape);
    const data = all.slice(offset, offset + size);
    offset += size;
    return { shape: [...w.shape], data };
  });
  return { study: json.study, spec: json.modelSpec, weights, statistics: json.preprocessing?.featureStatistics ?? null, metadata: json.metadata ?? {} };
}
