module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'coordinator-api',
  rootDir: __dirname,
  testTimeout: 60000,
};
