import * as tf from '@tensorflow/tfjs';
import { dirname } from 'node:path';

/** Which TensorFlow.js backend to use: `native` = @tensorflow/tfjs-node (libtensorflow), `wasm`, `cpu` (pure JS), or `auto`. */
export type BackendPreference = 'auto' | 'native' | 'wasm' | 'cpu';
/** The backend actually in use. */
export interface BackendInfo {
  /** tf.getBackend(): 'tensorflow', 'wasm' or 'cpu'. */
  name: string;
  preference: BackendPreference;
  /** True when running on libtensorflow through @tensorflow/tfjs-node. */
  native: boolean;
}

/** Raised when an explicitly requested backend cannot be loaded or initialised here. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

type ConcreteBackend = Exclude<BackendPreference, 'auto'>;

const TF_NAMES: Record<ConcreteBackend, string> = { native: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };
// Indirection so bundlers and the type checker do not try to resolve the optional native package statically.
const NATIVE_PACKAGE = '@tensorflow/tfjs-node';

/**
 * The backends `initBackend` tries, in order. `auto` prefers the fastest one that loads:
 * native (libtensorflow), then wasm (4–10× faster than cpu for real models, STACK.md), then cpu.
 */
export function backendCandidates(preference: BackendPreference): ConcreteBackend[] {
  return preference === 'auto' ? ['native', 'wasm', 'cpu'] : [preference];
}

let wasmPathsSet = false;

async function tryActivate(backend: ConcreteBackend): Promise<string | undefined> {
  if (backend === 'native') {
    try {
      // @tensorflow/tfjs-node is an optionalDependency whose install fails without internet access to
      // libtensorflow: it registers the 'tensorflow' backend on load, when it is there at all.
      require(NATIVE_PACKAGE);
    } catch (e) {
      return `${NATIVE_PACKAGE} could not be loaded (${(e as Error).message.split('\n')[0]})`;
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
  return ok && tf.getBackend() === name ? undefined : `tf.setBackend('${name}') failed`;
}

let current: BackendInfo | undefined;
let queue: Promise<unknown> = Promise.resolve();

/**
 * Selects and initialises the TensorFlow.js backend. `auto` (the default) uses @tensorflow/tfjs-node when it
 * can be required, else wasm, else cpu; an explicit preference that cannot be honoured throws.
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
      current = { name: tf.getBackend(), preference, native: backend === 'native' };
      return current;
    }
    failures.push(`${backend}: ${failure}`);
  }
  throw new BackendUnavailableError(`no usable TensorFlow.js backend for preference '${preference}': ${failures.join('; ')}`);
}
