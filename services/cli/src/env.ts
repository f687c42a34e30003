import { z } from 'zod';
import { commonEnvShape, parseEnv } from '@sweepq/runtime';

const cliEnvSchema = z.object({
  ...commonEnvShape,
  /**
   * Folder of the demo's `local.json` (written by `sweepq demo`, which `npm start` runs); default `.sweepq`. With
   * neither S3_ENDPOINT nor S3_BUCKET set, commands read the demo's data through it.
   */
  SWEEPQ_LOCAL_DIR: z.string().min(1).default('.sweepq'),
});
export type CliEnv = z.infer<typeof cliEnvSchema>;

/** Parse the CLI's environment (REDIS_URL, S3_*, AWS credentials via the SDK chain). */
export function loadCliEnv(env: Record<string, string | undefined> = process.env): CliEnv {
  return parseEnv(cliEnvSchema, env);
}

/**
 * The AWS SDK warns on every run under Node < 22 that its future releases need Node 22 (nine lines on stderr). The CLI
 * prints what people asked for, so it turns that off with the SDK's documented switch unless the variable is set
 * already (aws/aws-sdk-js-v3#7983). Call before the first S3 client is built; child processes inherit it.
 */
export function silenceSdkNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
