import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { formatZodIssues } from './zod-issues.js';

/** Variables that may instead be given as `<NAME>_FILE`, the path of a file holding the value (Docker/Kubernetes secrets). */
export const SECRET_FILE_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'REDIS_URL',
  'REDIS_PASSWORD',
] as const;

/**
 * Resolve `<NAME>_FILE` variables into `<NAME>` (trailing newline trimmed). A direct value wins over a
 * file. An unreadable file is a configuration error naming the variable and the path, never the content.
 */
export function resolveSecretFiles(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  const issues: string[] = [];
  for (const name of SECRET_FILE_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (!file || out[name]) continue;
    try {
      out[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      issues.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); mount the secret there or set ${name}`);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  // A password given on its own goes into the connection URL, so every Redis client gets it.
  if (out.REDIS_PASSWORD) {
    const u = new URL(out.REDIS_URL ?? 'redis://127.0.0.1:6379');
    u.password = encodeURIComponent(out.REDIS_PASSWORD);
    out.REDIS_URL = u.toString();
  }
  return out;
}

/**
 * Parse an environment-like record with a zod schema. Every issue is reported at once, each naming the
 * variable and what is expected. Services call this once at start-up and exit 1 on ConfigError.
 */
export function parseEnv<S extends z.ZodType>(schema: S, rawEnv: Record<string, string | undefined>): z.infer<S> {
  const env = resolveSecretFiles(rawEnv);
  const result = schema.safeParse(env, { reportInput: true });
  if (result.success) return result.data;
  // What was received is shown as the raw string the variable held (zod may see it coerced), redacted if secret.
  const lines = formatZodIssues(result.error.issues, { showInput: false });
  const issues = result.error.issues.map((issue, i) => {
    const name = String(issue.path[0] ?? '');
    const got = issue.path.length > 0 ? env[name] : undefined;
    return `${lines[i] ?? ''}${got !== undefined ? ` (got ${JSON.stringify(redactIfSecret(name, got))})` : ''}`;
  });
  throw new ConfigError(issues);
}

function redactIfSecret(key: string, value: string): string {
  return /SECRET|PASSWORD|TOKEN|KEY|REDIS_URL/i.test(key) ? '[redacted]' : value;
}
