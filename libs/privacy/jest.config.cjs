module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'privacy',
  rootDir: __dirname,
};
