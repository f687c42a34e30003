import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { redisAnswers } from '@sweepq/queue';
import { waitFor } from './env.js';

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const p = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return p;
}

/** A redis-server of a test's own on a spare port, which the test stops and starts (never the shared Redis). */
export interface PrivateRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  /** SIGKILL: the server dies with everything it held (it keeps nothing on disk). */
  kill(): Promise<void>;
}

/** A Redis that keeps nothing on disk: a restart comes back empty, as a crashed cache node without persistence does. */
export async function privateRedis(dir: string, extraArgs: string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  await mkdir(dir, { recursive: true });
  let proc: ChildProcess | undefined;
  return {
    port,
    url,
    async start() {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs], { stdio: 'ignore' });
      await waitFor('redis to answer', async () => ((await redisAnswers(url, 300)) ? true : undefined), 10_000, 100);
    },
    async kill() {
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
