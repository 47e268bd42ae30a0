module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'coordinator-core',
  rootDir: __dirname,
};
