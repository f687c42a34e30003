#!/usr/bin/env node
// Wiring only: env -> dependencies -> start -> shutdown.
import { ConfigError } from '@sweepq/runtime';
import { loadCoordinatorEnv } from './env.js';
import { runCoordinatorProcess } from './coordinator-process.js';

async function main(): Promise<void> {
  let env;
  try {
    env = loadCoordinatorEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`sweepq coordinator: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  await runCoordinatorProcess(env);
}

main().catch((err: unknown) => {
  console.error('sweepq coordinator failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
