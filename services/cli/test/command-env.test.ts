import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArtifactStore } from '@sweepq/storage';
import { storeSettings } from '@sweepq/runtime';
import { resolveCommandEnv } from '../src/context.js';
import { loadCliEnv } from '../src/env.js';
import { CliError } from '../src/errors.js';
import { readLocalSettings, writeLocalSettings, type LocalStackSettings } from '../src/demo/local-settings.js';

let dir: string;
const settings = (over: Partial<LocalStackSettings> = {}): LocalStackSettings => ({
  version: 1,
  redisUrl: 'redis://127.0.0.1:6399',
  redisStarted: true,
  queuePrefix: '{demo}',
  s3: { directory: join(dir, 's3'), bucket: 'demo-bucket', prefix: 'p/', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
  writtenAt: '2026-12-06T00:00:00.000Z',
  ...over,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-cmdenv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Resolve with SWEEPQ_LOCAL_DIR pointing at `local` and the given variables; collect the notices. */
async function resolve(local: string, vars: Record<string, string> = {}) {
  const raw = { SWEEPQ_LOCAL_DIR: local, ...vars };
  const notices: string[] = [];
  const cmd = await resolveCommandEnv(loadCliEnv(raw), raw, (l) => notices.push(l));
  return { cmd, notices };
}

describe('where a command finds its data', () => {
  it('uses the environment as it is when there is no local.json', async () => {
    const { cmd, notices } = await resolve(join(dir, 'none'));
    expect(cmd.local).toBeUndefined();
    expect(cmd.env.S3_ENDPOINT).toBeUndefined();
    expect(notices).toEqual([]);
  });

  it('serves the demo\'s bucket folder for the command, with its Redis and prefix, and stops the server at close', async () => {
    const local = join(dir, 'ok');
    await mkdir(join(dir, 's3', 'demo-bucket'), { recursive: true });
    const file = await writeLocalSettings(local, settings());
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readLocalSettings(local))?.settings).toEqual(settings());

    const { cmd, notices } = await resolve(local, { SWEEPQ_QUEUE_PREFIX: '{mine}' });
    try {
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/reading the demo's data in .*s3 \(from .*ok\/local\.json; set S3_ENDPOINT or S3_BUCKET/);
      expect(cmd.env).toMatchObject({
        S3_ENDPOINT: cmd.local?.server.endpoint,
        S3_BUCKET: 'demo-bucket',
        S3_PREFIX: 'p/',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        REDIS_URL: 'redis://127.0.0.1:6399',
        // An explicit setting wins over the file.
        SWEEPQ_QUEUE_PREFIX: '{mine}',
      });
      const store = createArtifactStore(storeSettings(cmd.env));
      await store.ensureBucket(false);
      await store.put('x.txt', 'hello');
      expect(await store.getText('x.txt')).toBe('hello');
      store.client.destroy();
    } finally {
      await cmd.close();
    }
    const after = createArtifactStore({ ...storeSettings(cmd.env), maxAttempts: 1, retry: { forMs: 0 } });
    await expect(after.ensureBucket(false)).rejects.toThrow(/cannot reach the S3 endpoint/);
    after.client.destroy();
  });

  it('lets S3_ENDPOINT or S3_BUCKET win over local.json', async () => {
    for (const vars of [{ S3_BUCKET: 'elsewhere' }, { S3_ENDPOINT: 'http://127.0.0.1:9000' }] as Record<string, string>[]) {
      const { cmd, notices } = await resolve(join(dir, 'ok'), vars);
      expect(cmd.local).toBeUndefined();
      expect(notices).toEqual([]);
    }
  });

  it('names the file and what to do when local.json is broken or its bucket folder is gone', async () => {
    const broken = join(dir, 'broken');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'local.json'), '{"version": 1, "redisUrl": "http://x"');
    await expect(resolve(broken)).rejects.toThrow(CliError);
    await expect(resolve(broken)).rejects.toThrow(/broken\/local\.json is not JSON .*run sweepq demo again, or set S3_ENDPOINT and S3_BUCKET/);
    await writeFile(join(broken, 'local.json'), JSON.stringify({ ...settings(), redisUrl: 'http://x', version: 2 }));
    await expect(resolve(broken)).rejects.toThrow(/is not a sweepq local-stack file \(version: .*; redisUrl: /);

    const gone = join(dir, 'gone');
    await writeLocalSettings(gone, settings({ s3: { ...settings().s3, bucket: 'deleted' } }));
    await expect(resolve(gone)).rejects.toThrow(/names the demo's bucket folder .*deleted, which does not exist; run sweepq demo again/);
  });
});
