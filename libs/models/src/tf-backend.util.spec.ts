import * as tf from '@tensorflow/tfjs';

import { BACKEND_PACKAGES, backendCandidates, BackendUnavailableError, initBackend } from './tf-backend.util';

function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    // Not installed: the expected case on machines without access to libtensorflow's download host.
    return false;
  }
}

const nativeInstalled = (): boolean => installed('@tensorflow/tfjs-node');
const gpuInstalled = (): boolean => installed('@tensorflow/tfjs-node-gpu');

describe('backendCandidates', () => {
  it('tries gpu, native, wasm, cpu for auto and only the named backend otherwise', () => {
    expect(backendCandidates('auto')).toEqual(['gpu', 'native', 'wasm', 'cpu']);
    expect(backendCandidates('wasm')).toEqual(['wasm']);
    expect(backendCandidates('native')).toEqual(['native']);
    expect(backendCandidates('gpu')).toEqual(['gpu']);
  });

  it('names the npm package of each libtensorflow backend', () => {
    expect(BACKEND_PACKAGES).toEqual({ gpu: '@tensorflow/tfjs-node-gpu', native: '@tensorflow/tfjs-node' });
  });
});

describe('initBackend', () => {
  afterAll(async () => {
    await initBackend('cpu');
  });

  it('selects cpu on request and is idempotent', async () => {
    const first = await initBackend('cpu');
    const second = await initBackend('cpu');
    expect(first).toEqual({ name: 'cpu', preference: 'cpu', native: false, gpu: false });
    expect(second).toBe(first);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('loads the wasm backend from the package files, registers the training kernels and computes with it', async () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    const info = await initBackend('wasm');
    expect(info).toEqual({ name: 'wasm', preference: 'wasm', native: false, gpu: false });
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
    expect(Array.from(sum)).toEqual([4, 6]);
  });

  it('auto picks gpu, else native when installed, else falls through to wasm', async () => {
    const info = await initBackend('auto');
    const libtensorflow = gpuInstalled() || nativeInstalled();
    expect(info.name).toBe(libtensorflow ? 'tensorflow' : 'wasm');
    expect(info.native).toBe(libtensorflow);
    expect(info.gpu).toBe(gpuInstalled());
  });

  it('throws BackendUnavailableError naming @tensorflow/tfjs-node-gpu for gpu when it is absent, never falling back', async () => {
    if (gpuInstalled()) {
      await expect(initBackend('gpu')).resolves.toMatchObject({ gpu: true, native: true });
      return;
    }
    await initBackend('cpu');
    const attempt = initBackend('gpu');
    await expect(attempt).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(attempt).rejects.toThrow("no usable TensorFlow.js backend for preference 'gpu': gpu: @tensorflow/tfjs-node-gpu could not be loaded");
    // The backend in use before the failed request is still in use: nothing switched silently.
    expect(tf.getBackend()).toBe('cpu');
  });

  it('throws BackendUnavailableError for native when @tensorflow/tfjs-node is absent', async () => {
    if (nativeInstalled()) {
      await expect(initBackend('native')).resolves.toMatchObject({ native: true });
      return;
    }
    await expect(initBackend('native')).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(initBackend('native')).rejects.toThrow(/tfjs-node could not be loaded/);
    // A failed explicit request leaves a working backend behind for the next caller.
    await expect(initBackend('cpu')).resolves.toMatchObject({ name: 'cpu' });
  });
});
