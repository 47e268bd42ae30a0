/** One hospital's line in the demo summary. */
export interface DemoSite {
  name: string;
  nTrain: number;
  nTest: number;
  testAccuracy: number | null;
}

/** Accuracy of a baseline, in the same two figures as the federation. */
export interface BaselineAccuracy {
  meanSiteTestAccuracy: number;
  pooledTestAccuracy: number;
  sites: { name: string; testAccuracy: number }[];
}

/** One round of the federation, as the demo prints it. */
export interface DemoRound {
  round: number;
  trainLoss: number | null;
  meanSiteTestAccuracy: number | null;
  pooledTestAccuracy: number | null;
}

/** The private run of `--dp-epsilon`: what each site spent, and what privacy cost in accuracy. */
export interface DemoPrivacy {
  studyId: string;
  targetEpsilon: number;
  delta: number;
  noiseMultiplier: number;
  clipNorm: number;
  placement: 'central' | 'split';
  /** ε each site's own ledger charged for this study. */
  epsilonSpent: Record<string, number>;
  sites: { name: string; testAccuracy: number | null }[];
  meanSiteTestAccuracy: number | null;
  pooledTestAccuracy: number | null;
  /** Non-private minus private accuracy. */
  accuracyCost: { meanSiteTestAccuracy: number | null; pooledTestAccuracy: number | null };
}

/** What `npm run demo -- --json FILE` writes. */
export interface DemoSummary {
  study: string;
  studyId: string;
  /** Whether the coordinator saw only the sum of the updates. */
  secureAggregation: boolean;
  strategy: string;
  rounds: number;
  /** TensorFlow.js backend the nodes trained on. */
  backend: string;
  sites: DemoSite[];
  meanSiteTestAccuracy: number | null;
  pooledTestAccuracy: number | null;
  baselines: { local: BaselineAccuracy; centralised: BaselineAccuracy };
  wallSeconds: number;
  /** Mean over nodes of the signed, sealed bytes each sent per training round (update + evaluation + share of its Hello). */
  bytesSentPerNodePerRound: number;
  bytesSentPerNode: Record<string, number>;
  history: DemoRound[];
  workdir: string;
  /** Present with --dp-epsilon. */
  privacy?: DemoPrivacy;
  /** Every audit log the run produced: the coordinator's and each node's (verify with `medfed audit verify`). */
  auditLogs: string[];
}

const pct = (x: number | null): string => (x === null ? '   n/a' : `${(x * 100).toFixed(1).padStart(5)}%`);

/** The closing table: each hospital's test accuracy beside the two baselines. */
export function formatSummaryTable(s: DemoSummary): string {
  const local = new Map(s.baselines.local.sites.map((x) => [x.name, x.testAccuracy]));
  const central = new Map(s.baselines.centralised.sites.map((x) => [x.name, x.testAccuracy]));
  const lines = [
    '',
    `Test accuracy after ${s.rounds} rounds of ${s.strategy}${s.secureAggregation ? ' with secure aggregation' : ''} (backend: ${s.backend})`,
    '',
    `${'site'.padEnd(14)}${'train'.padStart(7)}${'test'.padStart(6)}   ${'federated'.padStart(9)}   ${'local only'.padStart(10)}   ${'centralised'.padStart(11)}`,
    ...s.sites.map(
      (site) =>
        `${site.name.padEnd(14)}${String(site.nTrain).padStart(7)}${String(site.nTest).padStart(6)}   ${pct(site.testAccuracy).padStart(9)}   ${pct(local.get(site.name) ?? null).padStart(10)}   ${pct(central.get(site.name) ?? null).padStart(11)}`,
    ),
    '-'.repeat(66),
    `${'mean per site'.padEnd(27)}   ${pct(s.meanSiteTestAccuracy).padStart(9)}   ${pct(s.baselines.local.meanSiteTestAccuracy).padStart(10)}   ${pct(s.baselines.centralised.meanSiteTestAccuracy).padStart(11)}`,
    `${'pooled test set'.padEnd(27)}   ${pct(s.pooledTestAccuracy).padStart(9)}   ${pct(s.baselines.local.pooledTestAccuracy).padStart(10)}   ${pct(s.baselines.centralised.pooledTestAccuracy).padStart(11)}`,
    '',
    `FLamby (NeurIPS 2022) reports FedAvg 68.5% mean per site / 74.8% pooled; centralised 73.5% / 79.5%.`,
    `Wall time ${s.wallSeconds.toFixed(1)} s; each node sent ${(s.bytesSentPerNodePerRound / 1024).toFixed(1)} KiB per round (signed, sealed frames only).`,
    `State and logs: ${s.workdir}`,
  ];
  return lines.join('\n');
}

/** The private run beside the non-private one. */
export function formatPrivacyTable(s: DemoSummary): string {
  const p = s.privacy;
  if (!p) return '';
  const plain = new Map(s.sites.map((x) => [x.name, x.testAccuracy]));
  const lines = [
    '',
    `Under differential privacy (ε ≤ ${p.targetEpsilon}, δ = ${p.delta}; noise multiplier ${p.noiseMultiplier}, clip norm ${p.clipNorm}, ${p.placement} noise)`,
    '',
    `${'site'.padEnd(14)}${'ε spent'.padStart(9)}   ${'private'.padStart(8)}   ${'non-private'.padStart(11)}`,
    ...p.sites.map((x) => `${x.name.padEnd(14)}${(p.epsilonSpent[x.name] ?? 0).toFixed(3).padStart(9)}   ${pct(x.testAccuracy).padStart(8)}   ${pct(plain.get(x.name) ?? null).padStart(11)}`),
    '-'.repeat(48),
    `${'mean per site'.padEnd(23)}   ${pct(p.meanSiteTestAccuracy).padStart(8)}   ${pct(s.meanSiteTestAccuracy).padStart(11)}`,
    `${'pooled test set'.padEnd(23)}   ${pct(p.pooledTestAccuracy).padStart(8)}   ${pct(s.pooledTestAccuracy).padStart(11)}`,
    `accuracy cost of privacy: ${((p.accuracyCost.meanSiteTestAccuracy ?? 0) * 100).toFixed(1)} points per site, ${((p.accuracyCost.pooledTestAccuracy ?? 0) * 100).toFixed(1)} pooled`,
  ];
  return lines.join('\n');
}
