import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShutdownManager, silentLogger } from '../src/index.js';

describe('ShutdownManager', () => {
  it('runs steps in order once, aborts its signal and returns 128+signo', async () => {
    const order: string[] = [];
    const m = new ShutdownManager({ logger: silentLogger(), exit: () => undefined });
    m.register('a', () => void order.push('a'));
    m.register('b', async (signal) => {
      order.push(`b:${signal.aborted}`);
    });
    const [c1, c2] = await Promise.all([m.shutdown('SIGTERM'), m.shutdown('SIGTERM')]);
    expect(order).toEqual(['a', 'b:true']);
    expect(c1).toBe(143);
    expect(c2).toBe(143);
    expect(m.signal.aborted).toBe(true);
  });

  it('gives up at the deadline', async () => {
    const m = new ShutdownManager({ logger: silentLogger(), deadlineMs: 50, exit: () => undefined });
    m.register('hang', () => new Promise<void>(() => undefined));
    expect(await m.shutdown('SIGINT')).toBe(1);
  });
});

/** The fixture service, run from source; resolves with its exit code and everything it printed. */
function startChild(mode: string) {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(import.meta.dirname, 'fixtures', 'shutdown-child.ts'), mode], {
    cwd: join(import.meta.dirname, '..', '..', '..'),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const w of waiters.splice(0)) if (out.includes(w.text)) w.resolve();
    else waiters.push(w);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => out,
    /** Resolves once the child has printed `text` (the event itself, never a time). */
    printed: (text: string) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(text)) return resolve();
        waiters.push({ text, resolve });
        void exited.then(() => (out.includes(text) ? resolve() : reject(new Error(`exited without printing "${text}":\n${out}`))));
      }),
  };
}

/** Messages of the child's JSON log lines. */
const logMessages = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; level: number; err?: { message: string } });

const STEPS = ['step: stop timer', 'step: slow started (aborted true)', 'step: slow done', 'step: last'];
const steps = (out: string) => out.split('\n').filter((l) => l.startsWith('step: '));

describe('ShutdownManager installed in a process', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
    ['SIGHUP', 129],
  ] as const)('%s: runs every step in order and exits %i', async (signal, code) => {
    const c = startChild('wait');
    await c.printed('ready');
    c.child.kill(signal);
    expect(await c.exited, c.output()).toBe(code);
    expect(steps(c.output())).toEqual(STEPS);
    expect(logMessages(c.output()).map((l) => l.msg)).toContain('shutting down');
  });

  it('an unhandled rejection is logged, the steps run, and the process exits 1', async () => {
    const c = startChild('reject');
    expect(await c.exited, c.output()).toBe(1);
    expect(steps(c.output())).toEqual(STEPS);
    const fatal = logMessages(c.output()).find((l) => l.msg === 'fatal error; shutting down');
    expect(fatal?.err?.message).toBe('boom: a promise nobody awaited');
    expect(fatal?.level).toBe(50);
  });

  it('an uncaught exception is logged, the steps run, and the process exits 1', async () => {
    const c = startChild('throw');
    expect(await c.exited, c.output()).toBe(1);
    expect(steps(c.output())).toEqual(STEPS);
    expect(logMessages(c.output()).find((l) => l.msg === 'fatal error; shutting down')?.err?.message).toBe('kaboom: thrown in a timer');
  });

  it('a second fatal error during the shutdown exits 1 at once, without waiting for the running step', async () => {
    const c = startChild('slow-reject-twice');
    await c.printed('step: slow started');
    c.child.stdin.write('again\n');
    expect(await c.exited, c.output()).toBe(1);
    expect(steps(c.output())).toEqual(['step: stop timer', 'step: slow started (aborted true)']);
    expect(logMessages(c.output()).map((l) => l.msg)).toContain('second fatal error during shutdown: exiting now');
  });

  it('a second signal during the shutdown exits at once with 128 + its number', async () => {
    const c = startChild('slow');
    await c.printed('ready');
    c.child.kill('SIGTERM');
    await c.printed('step: slow started');
    c.child.kill('SIGHUP');
    expect(await c.exited, c.output()).toBe(129);
    expect(steps(c.output())).toEqual(['step: stop timer', 'step: slow started (aborted true)']);
  });
});
