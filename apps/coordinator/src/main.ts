import { loadCoordinatorConfig, runCoordinatorProcess } from '@medfed/coordinator-api';

// The coordinator as a process of its own: node bin/run-ts.js apps/coordinator/src/main.ts coordinator.json
// (`medfed coordinator start --config FILE` does the same).
const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: coordinator <coordinator.json>\n');
  process.exit(2);
}
runCoordinatorProcess(loadCoordinatorConfig(configPath)).catch((err: unknown) => {
  process.stderr.write(`coordinator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
