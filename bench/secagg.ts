// Cost of secure aggregation (@medfed/secagg, Bonawitz et al. CCS 2017, all pairs) against plain
// FedAvg (@medfed/aggregation), in one process: every site's client work and the server's work run
// one after the other, so "secagg total" is the sum of all parties' CPU time, not a wall-clock round.
// "server/plain" compares the coordinator's own work only. Plain FedAvg is the median of 5 runs;
// SecAgg rows are one run each. Also the bytes each site sends per round against a plain float32 update.
// Run: node -r @swc-node/register bench/secagg.ts [--sites 5,10,50] [--params 100000,1000000]
import { fedAvg } from '@medfed/aggregation';
import { AdvertiseKeys, EncryptedShares, MaskedInput, SecAggClient, SecAggParams, SecAggServer, UnmaskingShares } from '@medfed/secagg';

function arg(name: string, fallback: string): number[] {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback).split(',').map(Number);
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** Bytes of a message on a compact binary wire: typed arrays as-is, strings as UTF-8 with a 2-byte length, numbers as 8 bytes. */
function wireBytes(value: unknown): number {
  if (ArrayBuffer.isView(value)) return value.byteLength + 4;
  if (typeof value === 'string') return utf8(value) + 2;
  if (typeof value === 'number') return 8;
  if (Array.isArray(value)) return 4 + value.reduce((a: number, v) => a + wireBytes(v), 0);
  if (value && typeof value === 'object') return Object.values(value).reduce((a: number, v) => a + wireBytes(v), 0);
  return 0;
}

interface Row {
  sites: number;
  params: number;
  dropped: number;
  plainMs: number;
  clientMs: number;
  serverMs: number;
  bytesPerSite: number;
  plainBytes: number;
}

function run(sites: number, params: number, dropOne: boolean): Row {
  const siteIds = Array.from({ length: sites }, (_, i) => `site-${String(i).padStart(3, '0')}`);
  const threshold = Math.floor((2 * sites) / 3) + 1;
  const p: SecAggParams = { studyId: 'bench', round: 1, siteIds, threshold, vectorLength: params, clipRange: 1, maxWeight: 1000 };
  const inputs = siteIds.map((_, s) => Float32Array.from({ length: params }, (__, i) => Math.sin(i * 0.001 + s) * 0.01));
  const weights = siteIds.map((_, s) => 50 + s);
  const droppedId = dropOne ? siteIds[1] : undefined;

  // Plain FedAvg over the same updates (from a zero model, so the result is the weighted mean delta).
  const survivorsIdx = siteIds.map((_, s) => s).filter((s) => siteIds[s] !== droppedId);
  const plainTimes = [0, 1, 2, 3, 4].map(() => {
    const t0 = now();
    fedAvg([new Float32Array(params)], survivorsIdx.map((s) => ({ delta: [inputs[s]], numExamples: weights[s] })));
    return now() - t0;
  });
  const plainMs = plainTimes.sort((a, b) => a - b)[2];

  const sent = new Map<string, number>(siteIds.map((id) => [id, 0]));
  const count = (id: string, message: unknown) => sent.set(id, (sent.get(id) ?? 0) + wireBytes(message));
  let clientMs = 0;
  let serverMs = 0;
  const timed = <T>(who: 'client' | 'server', f: () => T): T => {
    const t0 = now();
    const out = f();
    if (who === 'client') clientMs += now() - t0;
    else serverMs += now() - t0;
    return out;
  };

  const server = timed('server', () => new SecAggServer(p));
  const clients = siteIds.map((id) => new SecAggClient(p, id));
  for (const c of clients) {
    const m: AdvertiseKeys = timed('client', () => c.advertiseKeys());
    count(c.siteId, m);
    timed('server', () => server.collectAdvertise(m));
  }
  const announced = timed('server', () => server.advertisedKeys());
  for (const c of clients) {
    const batch: EncryptedShares[] = timed('client', () => c.shareKeys(announced));
    count(c.siteId, batch);
    timed('server', () => server.collectShares(batch));
  }
  const routed = timed('server', () => server.routeShares());
  clients.forEach((c, s) => {
    if (c.siteId === droppedId) return;
    const m: MaskedInput = timed('client', () => c.maskedInput(inputs[s], weights[s], routed.get(c.siteId) ?? []));
    count(c.siteId, m);
    timed('server', () => server.collectMasked(m));
  });
  const request = timed('server', () => server.unmaskRequest());
  const responses: UnmaskingShares[] = [];
  for (const c of clients) {
    if (c.siteId === droppedId) continue;
    const r = timed('client', () => c.unmask(request.survivors, request.dropped));
    count(c.siteId, r);
    responses.push(r);
  }
  const start = now();
  const result = server.finish(responses);
  serverMs += now() - start;

  // Sanity: the recovered weighted mean matches the plain one.
  const W = survivorsIdx.reduce((a, s) => a + weights[s], 0);
  const i = Math.floor(params / 3);
  const expected = survivorsIdx.reduce((a, s) => a + inputs[s][i] * weights[s], 0) / W;
  if (Math.abs(result.sum[i] / result.weightSum - expected) > 1e-4) throw new Error(`secagg result differs from plain FedAvg at ${i}`);

  const full = siteIds.find((id) => id !== droppedId) as string;
  return { sites, params, dropped: dropOne ? 1 : 0, plainMs, clientMs, serverMs, bytesPerSite: sent.get(full) ?? 0, plainBytes: 4 * params };
}

function main(): void {
  const siteCounts = arg('sites', '5,10,50');
  const paramCounts = arg('params', '100000,1000000');
  // Warm-up so JIT compilation is not billed to the first row.
  run(5, 20_000, true);
  run(5, 20_000, false);
  console.log(`node ${process.version}; all-pairs SecAgg (no SecAgg+ neighbour graph), t = ⌊2n/3⌋+1, ring Z_2^32`);
  console.log('sites   params  drop   plain ms  clients ms (per site)  server ms  server/plain  all/plain   bytes/site   plain bytes   expansion');
  for (const params of paramCounts) {
    for (const sites of siteCounts) {
      for (const dropOne of [false, true]) {
        const r = run(sites, params, dropOne);
        const total = r.clientMs + r.serverMs;
        console.log(
          `${String(r.sites).padStart(5)} ${String(r.params).padStart(8)} ${String(r.dropped).padStart(5)} ${r.plainMs.toFixed(1).padStart(10)}` +
            ` ${r.clientMs.toFixed(0).padStart(11)} (${(r.clientMs / r.sites).toFixed(0).padStart(6)})` +
            ` ${r.serverMs.toFixed(0).padStart(10)} ${(r.serverMs / r.plainMs).toFixed(1).padStart(12)}x ${(total / r.plainMs).toFixed(0).padStart(9)}x` +
            ` ${String(r.bytesPerSite).padStart(12)} ${String(r.plainBytes).padStart(13)} ${(r.bytesPerSite / r.plainBytes).toFixed(4).padStart(10)}x`,
        );
      }
    }
  }
}

main();
