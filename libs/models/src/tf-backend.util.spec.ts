import * as tf from '@tensorflow/tfjs';

import { backendCandidates, BackendUnavailableError, initBackend } from './tf-backend.util';

function nativeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    // Not installed: the expected case on machines without access to libtensorflow's download host.
    return false;
  }
}

describe('backendCandidates', () => {
  it('tries native, wasm, cpu for auto and only the named backend otherwise', () => {
    expect(backendCandidates('auto')).toEqual(['native', 'wasm', 'cpu']);
    expect(backendCandidates('wasm')).toEqual(['wasm']);
    expect(backendCandidates('native')).toEqual(['native']);
  });
});

describe('initBackend', () => {
  afterAll(async () => {
    await initBackend('cpu');
  });

  it('selects cpu on request and is idempotent', async () => {
    const first = await initBackend('cpu');
    const second = await initBackend('cpu');
    expect(first).toEqual({ name: 'cpu', preference: 'cpu', native: false });
    expect(second).toBe(first);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('loads the wasm backend from the package files and computes with it', async () => {
    const info = await initBackend('wasm');
    expect(info).toEqual({ name: 'wasm', preference: 'wasm', native: false });
    const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
    expect(Array.from(sum)).toEqual([4, 6]);
  });

  it('auto picks native when installed, else wasm', async () => {
    const info = await initBackend('auto');
    expect(info.name).toBe(nativeInstalled() ? 'tensorflow' : 'wasm');
    expect(info.native).toBe(nativeInstalled());
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
