import { describe, expect, it } from 'vitest';
import { initBackend, ModelError, tf } from '../src/index.js';

describe('initBackend', () => {
  it('auto picks wasm when tfjs-node is absent, and is idempotent', async () => {
    const a = await initBackend();
    expect(a).toEqual({ backend: 'wasm', tfjsVersion: tf.version.tfjs });
    expect(tf.getBackend()).toBe('wasm');
    expect(await initBackend({ prefer: 'auto' })).toEqual(a);
  });

  it('switches to an explicitly preferred backend', async () => {
    expect((await initBackend({ prefer: 'cpu' })).backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend({ prefer: 'wasm' })).backend).toBe('wasm');
    // wasm is active again, so auto keeps its earlier choice.
    expect((await initBackend()).backend).toBe('wasm');
  });

  it('fails clearly for an explicit backend that cannot load, naming what is available', async () => {
    const err = await initBackend({ prefer: 'node' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/"node" is unavailable.*available here: wasm, cpu/);
    // The failed attempt leaves the previous backend active.
    expect(tf.getBackend()).toBe('wasm');
  });

  it('registers the scatter-add kernel for cpu and wasm', () => {
    expect(tf.getKernel('UnsortedSegmentSum', 'cpu')).toBeDefined();
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
  });
});
