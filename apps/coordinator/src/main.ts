import { bootstrapCoordinator, loadCoordinatorConfig } from '@medfed/coordinator-api';

/** The coordinator as a process: `node bin/medfed.js coordinator start --config FILE` is the usual way in. */
export async function main(configPath: string): Promise<void> {
  const running = await bootstrapCoordinator(loadCoordinatorConfig(configPath));
  const stop = (): void => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
