export * from './study-definition';
