// Rough timings of @medfed/crypto's two implementations, node:crypto vs tweetnacl.
// Run: node -r @swc-node/register bench/crypto.ts
// Seals/opens a 1 MB payload and signs/verifies a 32-byte digest; prints medians and the speed-up.
import {
  generateIdentity,
  nodeSealer,
  nodeSigner,
  randomBytes,
  Sealer,
  sha256,
  Signer,
  tweetnaclSealer,
  tweetnaclSigner,
} from '@medfed/crypto';

const PAYLOAD_BYTES = 1024 * 1024;

/** Median wall time in milliseconds of `run`, after one warm-up call, over `samples` calls. */
function medianMs(samples: number, run: () => void): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const start = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function main(): void {
  const identity = generateIdentity();
  const payload = randomBytes(PAYLOAD_BYTES);
  const aad = new TextEncoder().encode('bench/round-1/node-a');
  const digest = sha256(payload);
  const rows: Array<{ operation: string; node: number; tweetnacl: number }> = [];

  const sealers: Record<'node' | 'tweetnacl', Sealer> = { node: nodeSealer, tweetnacl: tweetnaclSealer };
  const signers: Record<'node' | 'tweetnacl', Signer> = { node: nodeSigner, tweetnacl: tweetnaclSigner };

  const seal = { node: 0, tweetnacl: 0 };
  const open = { node: 0, tweetnacl: 0 };
  const sign = { node: 0, tweetnacl: 0 };
  const verify = { node: 0, tweetnacl: 0 };
  for (const name of ['node', 'tweetnacl'] as const) {
    const sealer = sealers[name];
    const sealed = sealer.seal(payload, identity.encryption.publicKey, aad);
    if (sealer.open(sealed, identity.encryption, aad) === null) throw new Error(`${name} sealer failed to open its own output`);
    seal[name] = medianMs(name === 'node' ? 50 : 10, () => sealer.seal(payload, identity.encryption.publicKey, aad));
    open[name] = medianMs(name === 'node' ? 50 : 10, () => sealer.open(sealed, identity.encryption, aad));

    const signer = signers[name];
    const signature = signer.sign(digest, identity.signing.secretKey);
    if (!signer.verify(digest, signature, identity.signing.publicKey)) throw new Error(`${name} signer failed to verify its own signature`);
    sign[name] = medianMs(name === 'node' ? 500 : 30, () => signer.sign(digest, identity.signing.secretKey));
    verify[name] = medianMs(name === 'node' ? 500 : 30, () => signer.verify(digest, signature, identity.signing.publicKey));
  }
  rows.push({ operation: 'seal 1 MB', ...seal }, { operation: 'open 1 MB', ...open });
  rows.push({ operation: 'sign 32-byte digest', ...sign }, { operation: 'verify 32-byte digest', ...verify });

  console.log(`node ${process.version}, medians in ms`);
  console.log('operation                 node:crypto    tweetnacl   node:crypto is');
  for (const row of rows) {
    console.log(
      `${row.operation.padEnd(24)} ${row.node.toFixed(3).padStart(11)} ${row.tweetnacl.toFixed(3).padStart(12)}   ${(row.tweetnacl / row.node).toFixed(1).padStart(6)}x faster`,
    );
  }
  console.log(`throughput 1 MB seal: node:crypto ${(1 / (seal.node / 1000)).toFixed(0)} MB/s, tweetnacl ${(1 / (seal.tweetnacl / 1000)).toFixed(0)} MB/s`);
}

main();
