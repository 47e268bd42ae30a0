import { sampleSites } from './site-sampling';

const sites = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];

describe('sampleSites', () => {
  it('takes all sites at fraction 1', () => {
    expect(sampleSites(['c', 'a', 'b'], 1, 1, 's')).toEqual(['a', 'b', 'c']);
  });

  it('takes ceil(fraction × n) sites, never fewer than minSites', () => {
    expect(sampleSites(sites, 0.3, 1, 's')).toHaveLength(3);
    expect(sampleSites(sites, 0.1, 4, 's')).toHaveLength(4);
    expect(sampleSites(['a', 'b'], 0.1, 4, 's')).toEqual(['a', 'b']);
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const first = sampleSites(sites, 0.5, 1, 'study/1');
    expect(sampleSites([...sites].reverse(), 0.5, 1, 'study/1')).toEqual(first);
    const others = ['study/2', 'study/3', 'study/4', 'study/5'].map((seed) => sampleSites(sites, 0.5, 1, seed).join());
    expect(others.some((o) => o !== first.join())).toBe(true);
  });

  it('selects every site about equally often over many rounds', () => {
    const counts = new Map(sites.map((s) => [s, 0]));
    for (let r = 0; r < 2000; r++) for (const s of sampleSites(sites, 0.3, 1, `r${r}`)) counts.set(s, (counts.get(s) ?? 0) + 1);
    // 2000 × 3 / 10 = 600 expected per site; binomial sd ≈ 20.5
    for (const c of counts.values()) expect(Math.abs(c - 600)).toBeLessThan(100);
  });

  it('refuses a fraction outside (0, 1]', () => {
    expect(() => sampleSites(sites, 0, 1, 's')).toThrow(RangeError);
    expect(() => sampleSites(sites, 1.2, 1, 's')).toThrow('1.2');
  });
});
