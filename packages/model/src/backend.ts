import * as tf from '@tensorflow/tfjs';
import { DEFAULT_WASM_THREADS, initKernels, loadWasmBackend } from '@sweepq/kernels';
import type { Logger } from '@sweepq/runtime';
import { ModelError } from './errors.js';

/** Names of the backends this package can run on; `tensorflow` is the backend name of `@tensorflow/tfjs-node`. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** Which backend {@link initBackend} should pick. */
export type BackendPreference = 'auto' | 'node' | 'wasm' | 'cpu';

/** Options for {@link initBackend}. */
export interface InitBackendOptions {
  /**
   * `auto` (default) tries tfjs-node, then wasm, then cpu and takes the first that initialises.
   * An explicit choice that cannot be initialised throws a {@link ModelError} (`BACKEND_UNAVAILABLE`)
   * naming the backends that are available; it never falls back.
   */
  prefer?: BackendPreference;
  /** Logger for the choice made and for why other backends were skipped; default: none. */
  logger?: Logger;
  /**
   * Threads for the wasm backend (only effective where the threaded SIMD binary can run, i.e. when
   * `SharedArrayBuffer` and worker threads are available to it); default {@link DEFAULT_WASM_THREADS} (1).
   * Must be set before the wasm backend first initialises; later values are ignored.
   *
   * Why 1: sweepq scales by processes, one worker process per core, each single-threaded. Measured on a 2-core VM,
   * two single-threaded wasm processes each keep about 85% of their solo speed (1.7x aggregate), while a threaded
   * wasm process gains little on these small matmuls (the recurrence is a chain of 32x64 by 64x256 products, and the
   * gate math runs in JS on the main thread) and would oversubscribe the cores next to other workers. The number of
   * worker processes is configured by the worker service, not here.
   */
  wasmThreads?: number;
  /**
   * Directory (ending in a path separator) or URL prefix holding the `tfjs-backend-wasm*.wasm` binaries;
   * default: the `dist/` folder of the installed `@tensorflow/tfjs-backend-wasm` package.
   */
  wasmPaths?: string;
}

/** Result of {@link initBackend}. */
export interface BackendInfo {
  /** The active backend. */
  backend: BackendName;
  /** `tf.version.tfjs`. */
  tfjsVersion: string;
}

/** Default wasm thread count: one single-threaded process per core (see {@link InitBackendOptions.wasmThreads}). */
export { DEFAULT_WASM_THREADS };

const PREFERENCE_TO_BACKEND = { node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' } as const;
const AUTO_ORDER = ['node', 'wasm', 'cpu'] as const;

let nodeLoaded: Promise<void> | undefined;
let autoChoice: BackendName | undefined;

async function loadNode(): Promise<void> {
  nodeLoaded ??= (async () => {
    // A variable specifier keeps TypeScript from requiring the (optional, usually absent) package's types.
    const specifier = '@tensorflow/tfjs-node';
    await import(specifier);
  })();
  try {
    await nodeLoaded;
  } catch (err) {
    nodeLoaded = undefined;
    throw err;
  }
}

/** Try to activate one backend; returns the failure reason instead of throwing. */
async function tryActivate(
  pref: Exclude<BackendPreference, 'auto'>,
  opts: InitBackendOptions,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const name = PREFERENCE_TO_BACKEND[pref];
  try {
    if (pref === 'node') await loadNode();
    if (pref === 'wasm') await loadWasmBackend(opts);
    if (tf.findBackendFactory(name) == null) return { ok: false, reason: `backend '${name}' is not registered` };
    const ok = await tf.setBackend(name);
    if (!ok || tf.getBackend() !== name) return { ok: false, reason: `backend '${name}' failed to initialise` };
    await tf.ready();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Choose and initialise the TensorFlow.js backend, and register the fast embedding-gradient kernels for cpu and
 * wasm ({@link registerEmbeddingKernels}), faster cpu gather/transpose kernels ({@link registerFastCpuKernels}), and the faster wasm kernels ({@link registerFastKernels}: slice, gather,
 * transposed matmul; only on the pinned tfjs version, else with a warning to `logger`).
 *
 * `auto` (the default) tries `@tensorflow/tfjs-node` (an optional dependency; its absence is expected), then wasm,
 * then cpu. Idempotent: a repeated `auto` call returns the earlier choice if it is still the active backend, and an
 * explicit choice that is already active only re-checks readiness.
 *
 * @throws ModelError `BACKEND_UNAVAILABLE` when an explicitly preferred backend cannot be initialised (the message
 *   lists the reason and the backends that would work), or when no backend at all works.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const prefer = opts.prefer ?? 'auto';
  const log = opts.logger;
  await initKernels(log == null ? undefined : (message) => log.warn(message));
  if (prefer === 'auto') {
    if (autoChoice != null && tf.getBackend() === autoChoice) return info(autoChoice);
    const skipped: string[] = [];
    for (const candidate of AUTO_ORDER) {
      const res = await tryActivate(candidate, opts);
      if (res.ok) {
        autoChoice = PREFERENCE_TO_BACKEND[candidate];
        log?.info({ backend: autoChoice, skipped, tfjsVersion: tf.version.tfjs }, 'tfjs backend selected');
        return info(autoChoice);
      }
      skipped.push(`${candidate}: ${res.reason}`);
      log?.debug({ backend: candidate, reason: res.reason }, 'tfjs backend unavailable');
    }
    throw new ModelError('BACKEND_UNAVAILABLE', `no tfjs backend could be initialised (${skipped.join('; ')})`);
  }
  if (!(prefer in PREFERENCE_TO_BACKEND)) {
    throw new ModelError('BACKEND_UNAVAILABLE', `unknown backend preference "${String(prefer)}"; expected auto, node, wasm or cpu`);
  }
  const res = await tryActivate(prefer, opts);
  if (res.ok) {
    log?.info({ backend: PREFERENCE_TO_BACKEND[prefer], tfjsVersion: tf.version.tfjs }, 'tfjs backend selected');
    return info(PREFERENCE_TO_BACKEND[prefer]);
  }
  const available: string[] = [];
  const previous = tf.getBackend();
  for (const other of AUTO_ORDER) {
    if (other === prefer) continue;
    if ((await tryActivate(other, opts)).ok) available.push(other);
  }
  // Leave the process on the backend it was on before the failed attempt, if that still works.
  if (previous != null && tf.findBackendFactory(previous) != null) await tf.setBackend(previous);
  throw new ModelError(
    'BACKEND_UNAVAILABLE',
    `tfjs backend "${prefer}" is unavailable (${res.reason}); available here: ${available.length > 0 ? available.join(', ') : 'none'}`,
  );
}

function info(backend: BackendName): BackendInfo {
  return { backend, tfjsVersion: tf.version.tfjs };
}
