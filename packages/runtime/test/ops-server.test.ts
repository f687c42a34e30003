import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConfigError, startOpsServer } from '../src/index.js';

describe('startOpsServer', () => {
  it('names METRICS_PORT and what to set when its port is taken (a second sweepq process on one machine)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const err: unknown = await startOpsServer({ port, host: '127.0.0.1', registry: new Registry(), ready: () => true }).then(
        async (ops) => {
          await ops.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain(`METRICS_PORT: port ${port} on 127.0.0.1 is already in use`);
      expect((err as ConfigError).message).toContain('0 for any free one, or -1 to turn the ops server off');
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('serves /healthz on a free port', async () => {
    const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry: new Registry(), ready: () => true });
    try {
      const res = await fetch(`http://127.0.0.1:${ops.port}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true });
    } finally {
      await ops.close();
    }
  });
});
