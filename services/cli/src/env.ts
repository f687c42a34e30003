import { z } from 'zod';
import { commonEnvShape, parseEnv } from '@sweepq/runtime';

const cliEnvSchema = z.object({ ...commonEnvShape });
export type CliEnv = z.infer<typeof cliEnvSchema>;

/** Parse the CLI's environment (REDIS_URL, S3_*, AWS credentials via the SDK chain). */
export function loadCliEnv(env: Record<string, string | undefined> = process.env): CliEnv {
  return parseEnv(cliEnvSchema, env);
}
