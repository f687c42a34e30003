import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigError, commonEnvShape, parseEnv, storeSettings } from '../src/index.js';

const schema = z.object({ ...commonEnvShape });

describe('parseEnv', () => {
  it('applies defaults', () => {
    const env = parseEnv(schema, {});
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(env.S3_BUCKET).toBe('sweepq');
    expect(storeSettings(env)).toEqual({ bucket: 'sweepq', prefix: '', region: undefined, retry: { forMs: 600_000 } });
  });

  it('reports every bad variable at once, naming it and what is expected, never echoing secrets', () => {
    let err: unknown;
    try {
      parseEnv(schema, { REDIS_URL: 'http://secret-host', S3_BUCKET: 'Bad_Bucket', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/);
    expect(msg).toMatch(/S3_BUCKET: expected an S3 bucket name/);
    expect(msg).toMatch(/LOG_LEVEL/);
    expect(msg).not.toMatch(/secret-host/);
  });

  it('reads secrets from *_FILE variables and puts REDIS_PASSWORD into the URL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sweepq-env-'));
    await writeFile(join(dir, 'key'), 'AKIDEXAMPLE\n');
    await writeFile(join(dir, 'secret'), 's3cr3t/value\n');
    await writeFile(join(dir, 'redis'), 'p@ss word\n');
    const env = parseEnv(schema, {
      AWS_ACCESS_KEY_ID_FILE: join(dir, 'key'),
      AWS_SECRET_ACCESS_KEY_FILE: join(dir, 'secret'),
      REDIS_PASSWORD_FILE: join(dir, 'redis'),
      REDIS_URL: 'rediss://redis.example:6380/2',
    });
    expect(storeSettings(env).credentials).toEqual({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 's3cr3t/value' });
    const u = new URL(env.REDIS_URL);
    expect(u.protocol).toBe('rediss:');
    expect(decodeURIComponent(u.password)).toBe('p@ss word');
    expect(u.pathname).toBe('/2');
  });

  it('names an unreadable secret file without its content', () => {
    expect(() => parseEnv(schema, { AWS_SECRET_ACCESS_KEY_FILE: '/nonexistent/secret' })).toThrow(
      /AWS_SECRET_ACCESS_KEY_FILE: cannot read \/nonexistent\/secret \(ENOENT\)/,
    );
  });
});
