export * from './demo-summary';
export * from './heart-demo';
export * from './heart-study';
export * from './node-processes';
export * from './study-demo';
export * from './demo-federation';
