import { concatSplits, loadHeartDisease } from '@medfed/data';
import { evaluateOnCenters, initBackend, standardizePerCenter, TabularClassifier } from '@medfed/models';
(async () => {
  await initBackend('cpu');
  const sites = standardizePerCenter(loadHeartDisease('data/fed-heart-disease'));
  const train = concatSplits(sites.map((s) => s.train));
  for (const l2 of [0, 0.001, 0.003, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2]) {
    for (const steps of [500, 3000]) {
      const out: string[] = [];
      for (const seed of [42, 43]) {
        const m = TabularClassifier.create({ family: 'logistic-regression', inputDim: 13 }, seed);
        m.train(train, { localSteps: steps, batchSize: 16, learningRate: 0.03, optimizer: 'sgd', l2, proximalMu: 0 }, seed);
        const r = evaluateOnCenters(m, sites);
        out.push(`${r.perCenter.map((c) => c.accuracy.toFixed(3)).join(' ')} | ${r.meanPerCenter.toFixed(3)} ${r.pooled.toFixed(3)}`);
        m.dispose();
      }
      console.log(l2, steps, out.join('   '));
    }
  }
})();
