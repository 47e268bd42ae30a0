export * from './data-schema.error';
export * from './tabular-split.types';
export * from './standardizer.util';
export * from './heart-disease.loader';
