#!/usr/bin/env node
// Runs one TypeScript file (a benchmark or script) with the workspace's settings: node bin/run-ts.js FILE [ARGS…]
'use strict';
const path = require('node:path');
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(__dirname, '..', 'tsconfig.json');
require('@swc-node/register');
const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node bin/run-ts.js FILE.ts [ARGS…]\n');
  process.exit(2);
}
process.argv.splice(1, 1);
require(path.resolve(file));
