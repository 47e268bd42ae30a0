import { loadNodeConfig, runNodeProcess } from '@medfed/node-runtime';

// A hospital node as a process of its own: node bin/run-ts.js apps/node/src/main.ts node.json
// (`medfed node start --config FILE` does the same).
const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: node <node.json>\n');
  process.exit(2);
}
runNodeProcess(loadNodeConfig(configPath)).catch((err: unknown) => {
  process.stderr.write(`node: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
