import { loadNodeConfig, startNode } from '@medfed/node-runtime';

/** A hospital node as a process: `node bin/medfed.js node start --config FILE` is the usual way in. */
export async function main(configPath: string): Promise<void> {
  const node = await startNode(loadNodeConfig(configPath));
  const stop = (): void => {
    void node.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
