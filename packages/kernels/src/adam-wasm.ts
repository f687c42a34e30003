/**
 * Adam's update as one hand-written wasm SIMD function that works in place on the tfjs wasm backend's own heap, for
 * {@link LazyAdamOptimizer}'s fast path.
 *
 * Why hand-written, and why on tfjs' heap: with tfjs ops, Adam is about a dozen element-wise kernels per variable
 * (plus, for the embedding's touched rows, four gathers and three full-table scatter copies), i.e. ~80 kernel
 * dispatches and ~7 ms of a wasm training step for a few hundred thousand multiply-adds. Here it is one pass over
 * the touched elements, reading and writing the variables' and moments' memory directly. Float32 SIMD arithmetic is
 * IEEE exact, and the ops are those of tfjs' `AdamOptimizer` in the same order, so the results are bit-identical to
 * the tfjs path (tested). No binary is committed: the text below is assembled at load time with `wabt`.
 *
 * The module imports the backend's `WebAssembly.Memory` (Emscripten's exported `memory`), so addresses are the
 * `memoryOffset`s tfjs keeps per tensor. Reaching below the public API: only on the pinned tfjs version with the
 * wasm fast path's self-test passed ({@link wasmFastPathStatus}), plus a self-test of this module against plain
 * float32 arithmetic; otherwise callers use the tfjs ops.
 */
import * as tf from '@tensorflow/tfjs';
import { wasmFastPathStatus, type InternalsStatus } from './fast-kernels.js';

/** The parts of the WebAssembly JS API used here (the project compiles without the DOM lib, which declares it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<object>;
  Memory: abstract new (...args: never[]) => { readonly buffer: ArrayBuffer };
  Instance: new (mod: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** What the fast path needs from tfjs-backend-wasm's `BackendWasm` (4.22.0). */
interface WasmBackendInternals {
  wasm: { asm?: { memory?: unknown } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  refCount(dataId: object): number;
}

interface AdamExports {
  adam(n: number, g: number, m: number, v: number, w: number, ...consts: number[]): void;
  adamRows(list: number, count: number, width: number, g: number, m: number, v: number, w: number, ...consts: number[]): void;
  touchedRows(g: number, rows: number, width: number, out: number): number;
}

/** Adam's scalars, each already rounded to float32 as the tfjs ops see them. */
export interface AdamConstants {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  /** `1 - beta1^t` */
  oneMinusAccBeta1: number;
  /** `1 - beta2^t` */
  oneMinusAccBeta2: number;
  epsilon: number;
  negLearningRate: number;
}

/** In-place Adam on tensors of the active wasm backend. */
export interface WasmAdam {
  /**
   * `m`, `v`, `w` updated in place by Adam with gradient `g` (all float32 of the same size). They must not share
   * memory with any other tensor (see {@link writable}).
   */
  update(g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, w: tf.Tensor, k: AdamConstants): void;
  /** As {@link update}, on the rows (of `width` elements) listed in the first `count` entries of int32 `list`. */
  updateRows(g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, w: tf.Tensor, list: tf.Tensor, count: number, width: number, k: AdamConstants): void;
  /**
   * Writes the indices of the rows of `g` (`rows` rows of `width` elements) with an element `!== 0` (NaN included),
   * ascending, into int32 `out` (at least `rows` long); returns their number.
   */
  touchedRows(g: tf.Tensor, rows: number, width: number, out: tf.Tensor): number;
  /** Whether the tensor's memory may be written in place: no other tensor refers to it (backend refcount 1). */
  writable(t: tf.Tensor): boolean;
}

/** The body for one group of elements: `(ld, st, op, c)` abstract the element type (v128 or f32). */
function body(t: 'v128' | 'f32'): string {
  const p = t === 'v128' ? 'f32x4' : 'f32';
  const ld = (base: string): string => `(${t}.load (i32.add (local.get $${base}) (local.get $i)))`;
  const st = (base: string, v: string): string => `(${t}.store (i32.add (local.get $${base}) (local.get $i)) ${v})`;
  const op = (name: string, ...args: string[]): string => `(${p}.${name} ${args.join(' ')})`;
  const c = (name: string): string => (t === 'v128' ? `(local.get $v${name})` : `(local.get $${name})`);
  const g = `(local.get $${t}_g)`;
  const mv = `(local.get $${t}_m)`;
  const vv = `(local.get $${t}_v)`;
  return [
    `(local.set $${t}_g ${ld('g')})`,
    // m' = m·β1 + g·(1-β1); v' = v·β2 + g²·(1-β2)
    `(local.set $${t}_m ${op('add', op('mul', ld('m'), c('b1')), op('mul', g, c('omb1')))})`,
    `(local.set $${t}_v ${op('add', op('mul', ld('v'), c('b2')), op('mul', op('mul', g, g), c('omb2')))})`,
    st('m', mv),
    st('v', vv),
    // w' = ((m'/(1-β1^t)) / (sqrt(v'/(1-β2^t)) + ε))·(-lr) + w
    st('w', op('add', op('mul', op('div', op('div', mv, c('c1')), op('add', op('sqrt', op('div', vv, c('c2'))), c('eps'))), c('nlr')), ld('w'))),
  ].join('\n      ');
}

const CONSTS = ['b1', 'omb1', 'b2', 'omb2', 'c1', 'c2', 'eps', 'nlr'] as const;

const CONST_PARAMS = CONSTS.map((k) => `(param $${k} f32)`).join(' ');
const CONST_ARGS = CONSTS.map((k) => `(local.get $${k})`).join(' ');

/**
 * The module's text (addresses in bytes):
 *   adam(n, g, m, v, w, b1, omb1, b2, omb2, c1, c2, eps, nlr): the update of n elements;
 *   adamRows(list, count, width, g, m, v, w, …consts): the update of the rows list[0..count) of width elements;
 *   touchedRows(g, rows, width, out) -> count: indices of the rows of g with an element != 0 (or NaN) into out.
 */
export function adamWat(): string {
  return `(module
  (import "env" "mem" (memory 1))
  (func $touched (export "touchedRows") (param $g i32) (param $rows i32) (param $width i32) (param $out i32) (result i32)
    (local $r i32) (local $i i32) (local $rowBytes i32) (local $vecBytes i32) (local $any i32) (local $count i32) (local $acc v128)
    (local.set $rowBytes (i32.shl (local.get $width) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $rowBytes) (i32.const -16)))
    (block $rdone (loop $row
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (block $vdone (loop $vec
        (br_if $vdone (i32.ge_u (local.get $i) (local.get $vecBytes)))
        (local.set $acc (v128.or (local.get $acc)
          (f32x4.ne (v128.load (i32.add (local.get $g) (local.get $i))) (v128.const f32x4 0 0 0 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
      (local.set $any (v128.any_true (local.get $acc)))
      (block $sdone (loop $scalar
        (br_if $sdone (i32.ge_u (local.get $i) (local.get $rowBytes)))
        (local.set $any (i32.or (local.get $any) (f32.ne (f32.load (i32.add (local.get $g) (local.get $i))) (f32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $scalar)))
      (if (local.get $any) (then
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))) (local.get $r))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))))
      (local.set $g (i32.add (local.get $g) (local.get $rowBytes)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $row)))
    (local.get $count))
  (func (export "adamRows") (param $list i32) (param $count i32) (param $width i32) (param $g i32) (param $m i32) (param $v i32) (param $w i32)
    ${CONST_PARAMS}
    (local $q i32) (local $off i32)
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $q) (local.get $count)))
      (local.set $off (i32.mul (i32.load (i32.add (local.get $list) (i32.shl (local.get $q) (i32.const 2))))
        (i32.shl (local.get $width) (i32.const 2))))
      (call $adam (local.get $width) (i32.add (local.get $g) (local.get $off)) (i32.add (local.get $m) (local.get $off))
        (i32.add (local.get $v) (local.get $off)) (i32.add (local.get $w) (local.get $off)) ${CONST_ARGS})
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $rows))))
  (func $adam (export "adam") (param $n i32) (param $g i32) (param $m i32) (param $v i32) (param $w i32)
    ${CONST_PARAMS}
    (local $i i32) (local $end4 i32) (local $end i32)
    ${CONSTS.map((k) => `(local $v${k} v128)`).join(' ')}
    (local $v128_g v128) (local $v128_m v128) (local $v128_v v128) (local $f32_g f32) (local $f32_m f32) (local $f32_v f32)
    ${CONSTS.map((k) => `(local.set $v${k} (f32x4.splat (local.get $${k})))`).join('\n    ')}
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.and (local.get $end) (i32.const -16)))
    (block $vdone (loop $vec
      (br_if $vdone (i32.ge_u (local.get $i) (local.get $end4)))
      ${body('v128')}
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $vec)))
    (block $sdone (loop $scalar
      (br_if $sdone (i32.ge_u (local.get $i) (local.get $end)))
      ${body('f32')}
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $scalar)))
  )
)`;
}

let compiled: object | null = null;
let status: InternalsStatus | undefined;
let pending: Promise<InternalsStatus> | undefined;
/** One instance per backend object (each owns its memory). */
const instances = new WeakMap<object, AdamExports | null>();

/**
 * Assemble and compile the module (once). Never throws; on failure the tfjs-op path stays in use. `initBackend` awaits
 * this; the optimizer only uses the module once it is compiled.
 */
export function initWasmAdam(): Promise<InternalsStatus> {
  pending ??= (async (): Promise<InternalsStatus> => {
    try {
      if (wasmApi == null) return { ok: false, reason: 'WebAssembly is not available' };
      const wabt = await (await import('wabt')).default();
      const mod = wabt.parseWat('adam.wat', adamWat(), { simd: true });
      let bytes: Uint8Array;
      try {
        mod.validate();
        bytes = mod.toBinary({}).buffer;
      } finally {
        mod.destroy();
      }
      if (!wasmApi.validate(bytes)) return { ok: false, reason: 'WebAssembly SIMD is not available' };
      compiled = await wasmApi.compile(bytes);
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: `could not build the Adam module: ${err instanceof Error ? err.message : String(err)}` };
    }
  })().then((s) => (status = s));
  return pending;
}

/** Whether the module is compiled (see {@link initWasmAdam}). */
export function wasmAdamStatus(): InternalsStatus {
  return status ?? { ok: false, reason: 'Adam module not compiled yet' };
}

function instantiate(backend: WasmBackendInternals): AdamExports | null {
  const memory = backend.wasm?.asm?.memory;
  if (compiled == null || wasmApi == null || memory == null || !(memory instanceof (wasmApi.Memory as unknown as abstract new () => object))) return null;
  try {
    const ex = new wasmApi.Instance(compiled, { env: { mem: memory } }).exports as unknown as AdamExports;
    return selfTest(ex, backend) ? ex : null;
  } catch {
    // E.g. a shared memory (threaded build), which the import does not declare.
    return null;
  }
}

/**
 * Runs the module on a few tensors of the backend: the update against float32 arithmetic done by `Math.fround`, the
 * row scan on rows that are zero, -0, NaN, or non-zero in a vector or in the scalar tail.
 */
function selfTest(ex: AdamExports, backend: WasmBackendInternals): boolean {
  const n = 7; // one vector group and a scalar tail
  const f = Math.fround;
  const src = (k: number): Float32Array => Float32Array.from({ length: n }, (_, i) => f(Math.sin(i * 7 + k) * (k + 1)));
  const [g, m, v, w] = [src(1), src(2), src(3).map(Math.abs), src(4)];
  const k = [0.9, 0.1, 0.999, 0.001, 0.5, 0.25, 1e-7, -0.01].map(f);
  const ts = [g, m, v, w].map((a) => tf.tensor1d(a));
  try {
    const at = (t: tf.Tensor): number => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    ex.adam(n, at(ts[0]!), at(ts[1]!), at(ts[2]!), at(ts[3]!), ...k);
    const [, m2, v2, w2] = ts.map((t) => t.dataSync());
    for (let i = 0; i < n; i++) {
      const mm = f(f(m[i]! * k[0]!) + f(g[i]! * k[1]!));
      const vv = f(f(v[i]! * k[2]!) + f(f(g[i]! * g[i]!) * k[3]!));
      const ww = f(f(f(f(mm / k[4]!) / f(f(Math.sqrt(f(vv / k[5]!))) + k[6]!)) * k[7]!) + w[i]!);
      if (m2![i] !== mm || v2![i] !== vv || w2![i] !== ww) return false;
    }
  } finally {
    tf.dispose(ts);
  }
  const rows = [[0, 0, 0, 0, 0], [0, 0, 0, 0, -0], [0, 0, 0, 0, 2], [0, Number.NaN, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, -1, 0, 0]];
  const g2 = tf.tensor2d(rows.flat(), [rows.length, 5]);
  const out = tf.zeros([rows.length], 'int32');
  try {
    const count = ex.touchedRows(backend.dataIdMap.get(g2.dataId)!.memoryOffset, rows.length, 5, backend.dataIdMap.get(out.dataId)!.memoryOffset);
    const got = Array.from(out.dataSync().subarray(0, count));
    return got.join(',') === '2,3,5';
  } finally {
    tf.dispose([g2, out]);
  }
}

/** {@link WasmAdam} for the active backend when it is wasm with the fast paths allowed and the module ready; else null. */
export function wasmAdam(): WasmAdam | null {
  if (compiled == null || !wasmFastPathStatus().ok) return null;
  const backend = tf.backend() as unknown as WasmBackendInternals;
  if (typeof backend.refCount !== 'function') return null;
  let ex = instances.get(backend);
  if (ex === undefined) {
    ex = instantiate(backend);
    instances.set(backend, ex);
  }
  if (ex == null) return null;
  const fns = ex;
  const at = (t: tf.Tensor): number => backend.dataIdMap.get(t.dataId)!.memoryOffset;
  const consts = (k: AdamConstants): number[] => [
    k.beta1,
    k.oneMinusBeta1,
    k.beta2,
    k.oneMinusBeta2,
    k.oneMinusAccBeta1,
    k.oneMinusAccBeta2,
    k.epsilon,
    k.negLearningRate,
  ];
  return {
    update(g, m, v, w, k) {
      fns.adam(g.size, at(g), at(m), at(v), at(w), ...consts(k));
    },
    updateRows(g, m, v, w, list, count, width, k) {
      fns.adamRows(at(list), count, width, at(g), at(m), at(v), at(w), ...consts(k));
    },
    touchedRows(g, rows, width, out) {
      return fns.touchedRows(at(g), rows, width, at(out));
    },
    writable(t) {
      return backend.refCount(t.dataId) === 1;
    },
  };
}
