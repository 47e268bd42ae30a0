import { STRATEGIES } from '@medfed/protocol';

import { createStrategy } from './create-strategy';
import { FedAdam } from './fedadam.strategy';
import { Krum } from './krum.strategy';
import { Scaffold } from './scaffold.strategy';
import { FedTrimmedAvg } from './trimmed-mean.strategy';

describe('createStrategy', () => {
  it('builds every strategy the protocol names, and only the robust ones need individual updates', () => {
    const built = STRATEGIES.map((name) => createStrategy(name));
    expect(built.map((s) => s.name)).toEqual([...STRATEGIES]);
    expect(built.filter((s) => s.needsIndividualUpdates).map((s) => s.name)).toEqual(['median', 'trimmed-mean', 'krum']);
  });

  it('passes each strategy its own options and leaves the rest at their defaults', () => {
    const config = { serverLearningRate: 0.01, beta1: 0.8, beta2: 0.999, tau: 1e-8, trimFraction: 0.25, byzantine: 2 };
    const adam = createStrategy('fedadam', config) as FedAdam;
    expect([adam.serverLearningRate, adam.beta1, adam.beta2, adam.tau]).toEqual([0.01, 0.8, 0.999, 1e-8]);
    expect((createStrategy('scaffold', config) as Scaffold).serverLearningRate).toBe(0.01);
    expect((createStrategy('scaffold') as Scaffold).serverLearningRate).toBe(1);
    expect((createStrategy('trimmed-mean', config) as FedTrimmedAvg).trimFraction).toBe(0.25);
    expect((createStrategy('krum', config) as Krum).byzantine).toBe(2);
  });

  it('throws a RangeError naming the bad value', () => {
    expect(() => createStrategy('trimmed-mean', { trimFraction: 0.6 })).toThrow(/trimFraction must be in \[0, 0.5\), got 0.6/);
    expect(() => createStrategy('fedyogi', { beta2: 1.5 })).toThrow(/beta2 must be in \[0, 1\), got 1.5/);
    expect(() => createStrategy('krum', { byzantine: -1 })).toThrow(RangeError);
    expect(() => createStrategy('bogus' as never)).toThrow(/unknown strategy 'bogus'/);
  });
});
