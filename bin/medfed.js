#!/usr/bin/env node
// Entry point of the `medfed` command. The TypeScript sources run directly through SWC (fast,
// with decorator metadata for NestJS and the workspace's path aliases), so there is no build step.
'use strict';
const path = require('node:path');
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(__dirname, '..', 'tsconfig.json');
require('@swc-node/register');
require('../apps/cli/src/main.ts');
