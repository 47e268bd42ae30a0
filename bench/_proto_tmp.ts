import { loadHeartDisease } from '@medfed/data';
import { initBackend, runFederatedSimulation } from '@medfed/models';
(async () => {
  await initBackend('cpu');
  const centers = loadHeartDisease('data/fed-heart-disease');
  const optimizer = process.argv[2] as 'sgd' | 'adam';
  const lrs = optimizer === 'sgd' ? [0.01, 0.03, 0.1] : [0.001, 0.003, 0.01];
  for (const learningRate of lrs) for (const localSteps of [10, 25, 50, 100]) for (const batchSize of [4, 8, 16, 32]) for (const l2 of [0, 0.01, 0.03, 0.1]) {
    const training = { localSteps, batchSize, learningRate, optimizer, l2, proximalMu: 0 };
    const per: number[][] = []; const pooled: number[][] = [];
    for (const seed of [42, 43, 44, 45, 46]) {
      const r = runFederatedSimulation(centers, { training, rounds: 30, seed, evaluateEveryRound: true });
      per.push(r.rounds.map((x) => x.report!.meanPerCenter)); pooled.push(r.rounds.map((x) => x.report!.pooled));
    }
    const rows: string[] = [];
    for (let R = 1; R <= 30; R++) {
      const m = per.map((p) => p[R - 1]); const q = pooled.map((p) => p[R - 1]);
      const mean = (a: number[]) => a.reduce((x, y) => x + y) / a.length;
      rows.push([optimizer, learningRate, localSteps, batchSize, l2, R, mean(m).toFixed(3), Math.min(...m).toFixed(3), mean(q).toFixed(3), Math.min(...q).toFixed(3)].join('\t'));
    }
    console.log(rows.join('\n'));
  }
})();
