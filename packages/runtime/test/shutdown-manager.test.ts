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
