/**
 * sweepq's own wasm matrix multiply (`gemm-wat.ts`), compiled at load time with `wabt`, in two editions: with relaxed
 * SIMD's fused multiply-add where the engine has it (on by default in Node 22+; behind `--experimental-wasm-relaxed-simd`
 * in Node 20), detected by validating a tiny module, else with plain SIMD multiplies and adds. Either edition passes a
 * self-test against plain JS loops before it is used; when none can be compiled the fused recurrent op is off and the
 * recurrent layers run the stock tfjs implementation.
 *
 * The fused recurrent op runs it over the tfjs wasm backend's own heap ({@link heapGemm}): operands are tensors there,
 * addressed by byte offset, so no product copies anything in or out.
 */
import * as tf from '@tensorflow/tfjs';
import { wasmFastPathStatus, warnOnce, type InternalsStatus } from './fast-kernels.js';
import { gemmWat, RELAXED_PROBE_WAT } from './gemm-wat.js';

/** The parts of the WebAssembly JS API used here (the project compiles without the DOM lib, which declares it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<object>;
  Memory: new (desc: { initial: number }) => { readonly buffer: ArrayBuffer };
  Instance: new (mod: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** `C[M,N] (+)= A·B`; addresses and strides in bytes (see `gemm-wat.ts`). */
type GemmFunc = (M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, add: number) => void;

/** Products over one wasm memory, all addresses and row strides in bytes (any M, N, K >= 1). */
export interface Gemm {
  /** Which edition runs: `relaxed` (fused multiply-add) or `simd`. */
  readonly kind: GemmKind;
  /** `C[M,N] (+)= A[M,K] · B[K,N]` (A, B, C row-major with row strides lda, ldb, ldc; add: accumulate into C). */
  nn(M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, add: boolean): void;
  /** `C[M,N] (+)= Aᵀ · B` with A stored row-major as `[K, M]` (row stride lda). */
  tn(M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, add: boolean): void;
}

/** The edition of the compiled module. */
export type GemmKind = 'relaxed' | 'simd';

interface Compiled {
  kind: GemmKind;
  mod: object;
}

let compiled: Compiled | null = null;
let status: InternalsStatus | undefined;
let pending: Promise<InternalsStatus> | undefined;
let forceOff = false;
let instances = new WeakMap<object, Gemm | null>();

/** Options of {@link initGemm}. */
export interface InitGemmOptions {
  /** Compile again even if an earlier call succeeded or failed (tests). */
  reinit?: boolean;
  /** Use the plain-SIMD edition even where relaxed SIMD is available (tests of the fallback); default false. */
  plainSimd?: boolean;
  /** The module's text for an edition (tests of the failure path pass a broken one); default the real module. */
  source?: (relaxed: boolean) => string;
}

/**
 * Compile the matmul module (once; later calls return the first outcome unless `reinit`): the relaxed-SIMD edition
 * where relaxed SIMD validates (and `plainSimd` is not set), else the plain one. Never throws: on failure (no `wabt`,
 * no wasm SIMD, a compile or self-test error) the fused recurrent op is off, with one warning.
 */
export function initGemm(opts: InitGemmOptions = {}): Promise<InternalsStatus> {
  if (opts.reinit === true) {
    compiled = null;
    status = undefined;
    pending = undefined;
    instances = new WeakMap();
  }
  pending ??= compile(opts.plainSimd === true, opts.source ?? gemmWat).then((s) => {
    status = s;
    if (!s.ok) warnOnce(`sweepq: own wasm matmul disabled, the recurrent layers train with the stock tfjs implementation (slower): ${s.reason}`);
    return s;
  });
  return pending;
}

/** Whether relaxed SIMD validates in this engine (its fused multiply-add). */
export async function relaxedSimdSupported(): Promise<boolean> {
  if (wasmApi == null) return false;
  try {
    return wasmApi.validate(await assemble(RELAXED_PROBE_WAT));
  } catch {
    return false;
  }
}

async function assemble(source: string): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const mod = wabt.parseWat('gemm.wat', source, { simd: true, relaxed_simd: true });
  try {
    mod.validate();
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}

async function compile(plainSimd: boolean, source: (relaxed: boolean) => string): Promise<InternalsStatus> {
  if (wasmApi == null) return { ok: false, reason: 'WebAssembly is not available' };
  const kind: GemmKind = !plainSimd && (await relaxedSimdSupported()) ? 'relaxed' : 'simd';
  let bytes: Uint8Array;
  try {
    bytes = await assemble(source(kind === 'relaxed'));
  } catch (err) {
    return { ok: false, reason: `could not assemble the module: ${err instanceof Error ? err.message : String(err)}` };
  }
  try {
    if (!wasmApi.validate(bytes)) return { ok: false, reason: 'WebAssembly SIMD is not available' };
    const mod = await wasmApi.compile(bytes);
    const err = selfTest({ kind, mod });
    if (err != null) return { ok: false, reason: `self-test failed: ${err}` };
    compiled = { kind, mod };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `could not compile the module: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function instantiate(c: Compiled, memory: { readonly buffer: ArrayBuffer }): Gemm {
  const ex = new wasmApi!.Instance(c.mod, { env: { mem: memory } }).exports as unknown as { gemmNN: GemmFunc; gemmTN: GemmFunc };
  // The module takes column counts that are multiples of 4; the last N mod 4 columns (widths such as 50 units or a
  // 30-wide embedding) are summed here in JS: at most 3 columns of the product, a small share of its time.
  const product =
    (f: GemmFunc, trans: boolean): Gemm['nn'] =>
    (M, N, K, a, lda, b, ldb, cc, ldc, add) => {
      const N4 = N - (N % 4);
      if (N4 > 0) f(M, N4, K, a, lda, b, ldb, cc, ldc, add ? 1 : 0);
      if (N4 < N) tailColumns(new Float32Array(memory.buffer), trans, M, N4, N, K, a >> 2, lda >> 2, b >> 2, ldb >> 2, cc >> 2, ldc >> 2, add);
    };
  return { kind: c.kind, nn: product(ex.gemmNN, false), tn: product(ex.gemmTN, true) };
}

/** Columns `n0..N-1` of `C (+)= A·B` (or `Aᵀ·B` when `trans`) in JS; element offsets and strides in floats. */
function tailColumns(f: Float32Array, trans: boolean, M: number, n0: number, N: number, K: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, add: boolean): void {
  for (let i = 0; i < M; i++) {
    for (let j = n0; j < N; j++) {
      let sum = add ? f[c + i * ldc + j]! : 0;
      for (let k = 0; k < K; k++) sum += f[a + (trans ? k * lda + i : i * lda + k)]! * f[b + k * ldb + j]!;
      f[c + i * ldc + j] = sum;
    }
  }
}

/**
 * Both products on small odd shapes (row and column tails, K over one chunk) in a memory of their own, against plain
 * JS loops in float64, overwriting and accumulating; returns what differs, or undefined.
 */
function selfTest(c: Compiled): string | undefined {
  const mem = new wasmApi!.Memory({ initial: 4 });
  const g = instantiate(c, mem);
  const f = new Float32Array(mem.buffer);
  let s = 777;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  for (const [M, N, K] of [
    [7, 12, 5],
    [9, 20, 300],
    [4, 8, 1],
    [5, 7, 6], // column tail (N not a multiple of 4)
    [3, 2, 4], // tail only
  ] as const) {
    for (const trans of [false, true]) {
      for (const add of [false, true]) {
        const a = 16;
        const b = a + M * K + 4;
        const cc = b + K * N + 4;
        for (let i = a; i < cc + M * N; i++) f[i] = rand();
        const want = new Float64Array(M * N);
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let sum = add ? f[cc + i * N + j]! : 0;
            for (let k = 0; k < K; k++) sum += f[a + (trans ? k * M + i : i * K + k)]! * f[b + k * N + j]!;
            want[i * N + j] = sum;
          }
        }
        (trans ? g.tn : g.nn)(M, N, K, 4 * a, 4 * (trans ? M : K), 4 * b, 4 * N, 4 * cc, 4 * N, add);
        for (let k = 0; k < M * N; k++) {
          const d = Math.abs(f[cc + k]! - want[k]!);
          if (!(d <= 1e-5 * (1 + Math.abs(want[k]!)))) {
            return `${trans ? 'tn' : 'nn'} ${M}x${N}x${K}${add ? ' (accumulating)' : ''}: element ${k} is ${f[cc + k]}, expected ${want[k]}`;
          }
        }
      }
    }
  }
  return undefined;
}

/** Turn the own matmul off (tests of the tfjs-matmul path); returns the previous setting. */
export function forceTfjsMatmuls(on: boolean): boolean {
  const prev = forceOff;
  forceOff = on;
  return prev;
}

/** Whether the own matmul is in use, and which edition: compiled, self-tested and not forced off. */
export function gemmStatus(): InternalsStatus & { kind?: GemmKind } {
  if (forceOff) return { ok: false, reason: 'tfjs matmuls forced' };
  if (status == null) return { ok: false, reason: 'own wasm matmul not compiled yet' };
  return status.ok ? { ok: true, kind: compiled!.kind } : status;
}

/**
 * The own matmul over the active tfjs wasm backend's heap, or null when unavailable: not the wasm backend, its fast
 * paths off, the module not compiled (this call starts the compilation when nobody has), the memory not importable,
 * or forced off.
 */
export function heapGemm(): Gemm | null {
  if (status == null && pending == null) void initGemm();
  if (compiled == null || forceOff || wasmApi == null || tf.getBackend() !== 'wasm' || !wasmFastPathStatus().ok) return null;
  const memory = (tf.backend() as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  if (memory == null || !(memory instanceof (wasmApi.Memory as unknown as abstract new () => object))) return null;
  let g = instances.get(memory);
  if (g === undefined) {
    try {
      g = instantiate(compiled, memory as { readonly buffer: ArrayBuffer });
    } catch (err) {
      warnOnce(`sweepq: the own wasm matmul cannot run on the tfjs heap, the fused recurrent op is off: ${err instanceof Error ? err.message : String(err)}`);
      g = null;
    }
    instances.set(memory, g);
  }
  return g;
}
