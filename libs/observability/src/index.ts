export * from './json-lines.logger';
