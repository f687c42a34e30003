import type { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * Parse an environment-like record with a zod schema. Every issue is reported at once, each naming the
 * variable and what is expected. Services call this once at start-up and exit 1 on ConfigError.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const key = issue.path.join('.') || '(root)';
    const got = issue.path.length > 0 ? env[String(issue.path[0])] : undefined;
    return `${key}: ${issue.message}${got !== undefined ? ` (got ${JSON.stringify(redactIfSecret(key, got))})` : ''}`;
  });
  throw new ConfigError(issues);
}

function redactIfSecret(key: string, value: string): string {
  return /SECRET|PASSWORD|TOKEN|KEY|REDIS_URL/i.test(key) ? '[redacted]' : value;
}
