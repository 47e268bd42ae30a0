import * as tf from '@tensorflow/tfjs';
import { dirname } from 'node:path';

import { registerWasmTrainingKernels } from './wasm-kernels.util';

/**
 * Which TensorFlow.js backend to use: `gpu` = @tensorflow/tfjs-node-gpu (libtensorflow with CUDA), `native` =
 * @tensorflow/tfjs-node (libtensorflow, CPU), `wasm`, `cpu` (pure JS), or `auto` (the fastest that loads).
 */
export type BackendPreference = 'auto' | 'gpu' | 'native' | 'wasm' | 'cpu';
/** Every accepted preference, for command-line and config validation. */
export const BACKEND_PREFERENCE_NAMES: readonly BackendPreference[] = ['auto', 'gpu', 'native', 'wasm', 'cpu'];
/** The backend actually in use. */
export interface BackendInfo {
  /** tf.getBackend(): 'tensorflow', 'wasm' or 'cpu'. */
  name: string;
  preference: BackendPreference;
  /** True when running on libtensorflow, through @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu. */
  native: boolean;
  /** True when running on @tensorflow/tfjs-node-gpu. */
  gpu: boolean;
}

/** Raised when an explicitly requested backend cannot be loaded or initialised here. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

type ConcreteBackend = Exclude<BackendPreference, 'auto'>;

const TF_NAMES: Record<ConcreteBackend, string> = { gpu: 'tensorflow', native: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };
/**
 * The npm packages that provide the libtensorflow backends. Optional: their installs download libtensorflow, which
 * fails without access to its host. Required through a variable so bundlers and the type checker leave them alone.
 */
export const BACKEND_PACKAGES: Readonly<Record<'gpu' | 'native', string>> = { gpu: '@tensorflow/tfjs-node-gpu', native: '@tensorflow/tfjs-node' };

/**
 * The backends `initBackend` tries, in order. `auto` prefers the fastest one that loads: gpu (libtensorflow with
 * CUDA), native (libtensorflow), wasm (4–10× faster than cpu for real models, STACK.md), then cpu. An explicit
 * preference is the only candidate: it is honoured or refused, never silently replaced.
 */
export function backendCandidates(preference: BackendPreference): ConcreteBackend[] {
  return preference === 'auto' ? ['gpu', 'native', 'wasm', 'cpu'] : [preference];
}

let wasmPathsSet = false;
let wasmKernelsRegistered = false;

async function tryActivate(backend: ConcreteBackend): Promise<string | undefined> {
  if (backend === 'native' || backend === 'gpu') {
    const pkg = BACKEND_PACKAGES[backend];
    try {
      // Both packages register the 'tensorflow' backend on load, when they are installed at all.
      require(pkg);
    } catch (e) {
      return `${pkg} could not be loaded (${(e as Error).message.split('\n')[0]})`;
    }
  }
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!wasmPathsSet) {
      // In Node the .wasm binaries are read from disk: point the loader at the package's own dist folder.
      const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
      wasm.setWasmPaths(`${dist}/`);
      wasmPathsSet = true;
    }
  }
  const name = TF_NAMES[backend];
  if (tf.findBackendFactory(name) === null) {
    return `backend '${name}' is not registered`;
  }
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (name === 'cpu') {
    // The cpu backend prints an advert for tfjs-node to the console on first use; the backend in use
    // is already logged as structured data, and the advert would land in the middle of the demo's table.
    (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  }
  if (!ok || tf.getBackend() !== name) return `tf.setBackend('${name}') failed`;
  if (name === 'wasm' && !wasmKernelsRegistered) {
    // CNN training on wasm needs the missing Conv2DBackpropFilter and the faster gradient kernels.
    registerWasmTrainingKernels();
    wasmKernelsRegistered = true;
  }
  return undefined;
}

let current: BackendInfo | undefined;
let queue: Promise<unknown> = Promise.resolve();

/**
 * Selects and initialises the TensorFlow.js backend. `auto` (the default) uses @tensorflow/tfjs-node-gpu when it
 * can be required, else @tensorflow/tfjs-node, else wasm (with `registerWasmTrainingKernels()`), else cpu; an
 * explicit preference that cannot be honoured throws, naming the package or backend that failed.
 * Idempotent: calling again with the same preference returns the backend already in use; calls are serialised.
 *
 * @param preference which backend to use; default `auto`.
 * @throws BackendUnavailableError when an explicit backend (or, for auto, every backend) fails to initialise.
 */
export function initBackend(preference: BackendPreference = 'auto'): Promise<BackendInfo> {
  const result = queue.then(() => activate(preference));
  // The queue only orders the calls; each caller sees its own failure through `result`.
  queue = result.catch(() => undefined);
  return result;
}

async function activate(preference: BackendPreference): Promise<BackendInfo> {
  if (current && current.preference === preference && tf.getBackend() === current.name) {
    return current;
  }
  const failures: string[] = [];
  for (const backend of backendCandidates(preference)) {
    const failure = await tryActivate(backend);
    if (failure === undefined) {
      current = { name: tf.getBackend(), preference, native: backend === 'native' || backend === 'gpu', gpu: backend === 'gpu' };
      return current;
    }
    failures.push(`${backend}: ${failure}`);
  }
  throw new BackendUnavailableError(`no usable TensorFlow.js backend for preference '${preference}': ${failures.join('; ')}`);
}
