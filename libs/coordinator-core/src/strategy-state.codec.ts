import { decodeTensors, encodeTensors } from '@medfed/protocol';
import type { StrategyState } from '@medfed/aggregation';

/**
 * Strategy state (named lists of layers: Adam's moments, SCAFFOLD's control variate) as bytes, so
 * it is saved with the model version it produced: u32 BE length | JSON [[name, layerCount], …] |
 * the layers in that order as encoded tensors.
 */
export function encodeStrategyState(state: StrategyState): Uint8Array {
  const names = Object.keys(state).sort();
  const index = Buffer.from(JSON.stringify(names.map((n) => [n, state[n].length])), 'utf8');
  const layers = names.flatMap((n) => state[n].map((data) => ({ shape: [data.length], data })));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(index.length);
  return Buffer.concat([head, index, encodeTensors(layers)]);
}

/** Inverse of encodeStrategyState; empty or missing bytes are the empty state. */
export function decodeStrategyState(bytes: Uint8Array | null | undefined): StrategyState {
  if (!bytes || bytes.length === 0) return {};
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = buf.readUInt32BE(0);
  const index = JSON.parse(buf.subarray(4, 4 + length).toString('utf8')) as [string, number][];
  const layers = decodeTensors(buf.subarray(4 + length));
  const state: StrategyState = {};
  let at = 0;
  for (const [name, count] of index) {
    state[name] = layers.slice(at, at + count).map((t) => t.data);
    at += count;
  }
  return state;
}
