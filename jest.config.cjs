// `npm test` runs every project's suite in one jest process; `nx test <project>` runs one.
const fs = require('node:fs');
const path = require('node:path');

const roots = ['apps', 'libs'].flatMap((dir) =>
  fs.readdirSync(path.join(__dirname, dir)).map((name) => path.join(__dirname, dir, name)),
);
roots.push(path.join(__dirname, 'tests'));

module.exports = {
  projects: roots.filter((root) => fs.existsSync(path.join(root, 'jest.config.cjs'))),
  reporters: ['default', '<rootDir>/tests/support/summary-reporter.cjs'],
};
