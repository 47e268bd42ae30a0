module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'node-runtime',
  rootDir: __dirname,
};
