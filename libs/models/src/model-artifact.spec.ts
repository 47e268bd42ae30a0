import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

import { ModelArtifactError, loadModelArtifact, saveModelArtifact } from './model-artifact';

describe('model artifact', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medfed-artifact-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const artifact = {
    study: 'heart-disease',
    spec: { family: 'logistic-regression' as const, inputDim: 2 },
    weights: [
      { shape: [2, 1], data: new Float32Array([0.5, -1.25]) },
      { shape: [1], data: new Float32Array([3]) },
    ],
    statistics: { count: [10, 9], mean: [1, 2], std: [0.5, 4] },
    metadata: { studyId: 'abc', version: 7 },
  };

  it('round-trips weights, spec and statistics exactly, in a layout tfjs decodes', () => {
    // Arrange / Act
    const paths = saveModelArtifact(join(dir, 'ok'), artifact);
    const loaded = loadModelArtifact(join(dir, 'ok'));

    // Assert
    expect(loaded.spec).toEqual(artifact.spec);
    expect(loaded.statistics).toEqual(artifact.statistics);
    expect(loaded.weights.map((w) => Array.from(w.data))).toEqual([[0.5, -1.25], [3]]);
    const manifest = JSON.parse(readFileSync(paths.modelJsonPath, 'utf8')).weightsManifest[0].weights;
    const bin = readFileSync(paths.weightsPath);
    const decoded = tf.io.decodeWeights(new Uint8Array(bin).buffer, manifest);
    expect(Array.from(decoded['w0'].dataSync())).toEqual([0.5, -1.25]);
    expect(decoded['w1'].shape).toEqual([1]);
    Object.values(decoded).forEach((t) => t.dispose());
  });

  it('refuses a corrupted weights file and a wrong format, naming the file', () => {
    saveModelArtifact(join(dir, 'bad'), artifact);
    const weightsPath = join(dir, 'bad', 'weights.bin');
    const bytes = readFileSync(weightsPath);
    bytes[0] ^= 0xff;
    writeFileSync(weightsPath, bytes);
    expect(() => loadModelArtifact(join(dir, 'bad'))).toThrow(ModelArtifactError);
    expect(() => loadModelArtifact(join(dir, 'bad'))).toThrow(/weights\.bin does not match model\.json/);
    writeFileSync(join(dir, 'bad', 'model.json'), JSON.stringify({ format: 'keras' }));
    expect(() => loadModelArtifact(join(dir, 'bad'))).toThrow(/has format "keras"/);
  });
});
