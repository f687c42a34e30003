#!/usr/bin/env node
// The published CLI: built JavaScript only (dist/ is written by `npm pack` / `npm publish` through prepack).
import { run } from '../dist/cli.js';

process.exit(await run(process.argv.slice(2)));
