#!/usr/bin/env node
// Wiring only: env -> dependencies -> start -> shutdown.
import { ConfigError } from '@sweepq/runtime';
import { loadWorkerEnv } from './env.js';
import { runWorkerProcess } from './worker-process.js';

async function main(): Promise<void> {
  let env;
  try {
    env = loadWorkerEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`sweepq worker: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  await runWorkerProcess(env);
}

main().catch((err: unknown) => {
  console.error('sweepq worker failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
