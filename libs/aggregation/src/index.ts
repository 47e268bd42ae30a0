export * from './aggregation.error';
export * from './weighted-average.util';
export * from './layer-checks.util';
export * from './fed-avg.util';
