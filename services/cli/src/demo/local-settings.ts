import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { CliError } from '../errors.js';
import { formatZodIssues } from '@sweepq/runtime/zod-issues';

/** Name of the file in the demo's folder (`.sweepq/`) that tells later commands where the demo's data is. */
export const LOCAL_SETTINGS_FILE = 'local.json';

const localSettingsSchema = z.object({
  version: z.literal(1),
  redisUrl: z.string().regex(/^rediss?:\/\//),
  redisStarted: z.boolean(),
  queuePrefix: z.string().min(1),
  s3: z.object({
    directory: z.string().min(1),
    bucket: z.string().min(1),
    prefix: z.string(),
    credentials: z.object({ accessKeyId: z.string(), secretAccessKey: z.string() }),
  }),
  writtenAt: z.string(),
});

/**
 * The local stack's settings: Redis URL and queue prefix, the embedded S3 server's data folder (absolute), bucket,
 * key prefix and credentials, and whether the demo started (and later stopped) its own redis-server.
 */
export type LocalStackSettings = z.infer<typeof localSettingsSchema>;

/** Write `<dir>/local.json` (owner-only: the Redis URL may hold a password), replacing it atomically. */
export async function writeLocalSettings(dir: string, settings: LocalStackSettings): Promise<string> {
  const file = join(resolve(dir), LOCAL_SETTINGS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(tmp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
  return file;
}

/** `<dir>/local.json`, or undefined when there is none; a file that is not one is an error naming it. */
export async function readLocalSettings(dir: string): Promise<{ file: string; settings: LocalStackSettings } | undefined> {
  const file = join(resolve(dir), LOCAL_SETTINGS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not JSON (${(err as Error).message}); delete it and run sweepq demo again, or set S3_ENDPOINT and S3_BUCKET`);
  }
  const r = localSettingsSchema.safeParse(parsed, { reportInput: true });
  if (!r.success) {
    const issues = formatZodIssues(r.error.issues).join('; ');
    throw new CliError(`${file} is not a sweepq local-stack file (${issues}); delete it and run sweepq demo again, or set S3_ENDPOINT and S3_BUCKET`);
  }
  return { file, settings: r.data };
}
