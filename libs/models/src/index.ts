export * from './tf-backend.util';
export * from './seeded-rng.util';
export * from './weights.util';
export * from './tabular-classifier.model';
export * from './accuracy-report.types';
export * from './federated-simulation.runner';
export * from './baselines.runner';
export * from './heart-disease-study.config';
