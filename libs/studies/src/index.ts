export * from './study-definition';
export * from './score-histogram';
export * from './site-evaluation';
export * from './study-metrics';
export * from './study-simulation';
export * from './study-registry';
export * from './heart-disease.dataset';
export * from './tabular-examples.util';
