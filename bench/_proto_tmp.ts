import { loadHeartDisease } from '@medfed/data';
import { initBackend, runFederatedSimulation } from '@medfed/models';
(async () => {
  await initBackend('cpu');
  const centers = loadHeartDisease('data/fed-heart-disease');
  const rows: string[] = [];
  for (const [optimizer, lrs] of [['sgd', [0.003, 0.01, 0.03, 0.1]], ['adam', [0.001, 0.003, 0.01, 0.03]]] as const) {
    for (const learningRate of lrs) for (const localSteps of [10, 25, 50, 100]) for (const batchSize of [4, 16]) {
      const training = { localSteps, batchSize, learningRate, optimizer, l2: 0, proximalMu: 0 };
      const per: number[][] = []; const pooled: number[][] = [];
      for (const seed of [42, 43, 44, 45, 46]) {
        const r = runFederatedSimulation(centers, { training, rounds: 30, seed, evaluateEveryRound: true });
        per.push(r.rounds.map((x) => x.report!.meanPerCenter)); pooled.push(r.rounds.map((x) => x.report!.pooled));
      }
      for (const R of [5, 10, 15, 20, 30]) {
        const m = per.map((p) => p[R - 1]); const q = pooled.map((p) => p[R - 1]);
        const mean = (a: number[]) => a.reduce((x, y) => x + y) / a.length;
        rows.push([optimizer, learningRate, localSteps, batchSize, R, mean(m).toFixed(3), Math.min(...m).toFixed(3), mean(q).toFixed(3), Math.min(...q).toFixed(3)].join('\t'));
      }
    }
  }
  console.log(rows.join('\n'));
})();
