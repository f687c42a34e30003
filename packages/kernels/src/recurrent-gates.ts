/**
 * The recurrent cells' wasm SIMD gate module: the LSTM's (`lstm-gates-wat.ts`) and the GRU's (`gru-gates-wat.ts`)
 * functions in one module, compiled at load time with `wabt` and instantiated over the tfjs wasm backend's own heap, so
 * the fused op (`fused-recurrent.ts`) runs the gate math over its tensors in place. When the module is not (yet)
 * compiled, when wasm SIMD is unavailable, when it fails to compile, instantiate or pass its self-test (with one
 * warning), or when forced off ({@link forceJsGateMath}), the op runs the same math in JS loops.
 */
import * as tf from '@tensorflow/tfjs';
import { gate, gateGrad, tanhFast } from './activations.js';
import { wasmFastPathStatus, warnOnce, type InternalsStatus } from './fast-kernels.js';
import { gruGatesWat } from './gru-gates-wat.js';
import { lstmGatesWat } from './lstm-gates-wat.js';

/** The parts of the WebAssembly JS API used here (the project compiles without the DOM lib, which declares it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Memory: new (desc: { initial: number }) => WasmMemory;
  Instance: new (mod: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
}
/** A `WebAssembly.Memory`. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
/** A compiled `WebAssembly.Module`. */
interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** Hands out 16-byte-aligned element offsets from `start` on, one array after the other. */
function packer(start: number): { take: (n: number) => number; readonly end: number } {
  let next = start;
  return {
    take: (n: number): number => {
      const off = next;
      next += Math.ceil(n / 4) * 4;
      return off;
    },
    get end(): number {
      return next;
    },
  };
}

type StepFunc = (...args: number[]) => void;
/** The gate module's step functions (see `lstm-gates-wat.ts` for their arguments). */
export interface GateExports {
  gruGatesSigmoid: StepFunc;
  gruGatesHard: StepFunc;
  gruOut: StepFunc;
  gruBwdASigmoid: StepFunc;
  gruBwdAHard: StepFunc;
  gruBwdBSigmoid: StepFunc;
  gruBwdBHard: StepFunc;
  fwdSigmoid: StepFunc;
  fwdHard: StepFunc;
  bwdSigmoid: StepFunc;
  bwdHard: StepFunc;
}

/** What {@link heapGateKernels} needs from tfjs-backend-wasm's `BackendWasm` (4.22.0; see `fast-kernels.ts`). */
interface HeapBackend {
  wasm?: { asm?: { memory?: unknown } };
}

/** One gate-module instance per backend memory. */
let heapInstances = new WeakMap<object, GateExports | null>();
/**
 * The gate module's step functions instantiated over the active wasm backend's heap (addresses are heap byte
 * addresses), or null when unavailable: not the wasm backend, its fast paths off, the module not compiled, a memory
 * the module cannot import, or forced off ({@link forceJsGateMath}).
 */
export function heapGateKernels(): GateExports | null {
  if (compiled == null || forceJs || wasmApi == null || !wasmFastPathStatus().ok) return null;
  const backend = tf.backend() as unknown as HeapBackend;
  const memory = backend.wasm?.asm?.memory;
  if (memory == null || !(memory instanceof (wasmApi.Memory as unknown as abstract new () => object))) return null;
  let ex = heapInstances.get(memory);
  if (ex === undefined) {
    try {
      ex = new wasmApi.Instance(compiled, { env: { mem: memory } }).exports as unknown as GateExports;
    } catch (err) {
      warnOnce(`sweepq: the wasm gate math cannot run on the tfjs heap, using the JS loops (slower): ${err instanceof Error ? err.message : String(err)}`);
      ex = null;
    }
    heapInstances.set(memory, ex);
  }
  return ex;
}

// ---------------------------------------------------------------------------------------------------------------
// Compilation of the wasm module.

let compiled: WasmModule | null = null;
let status: InternalsStatus | undefined;
let pending: Promise<InternalsStatus> | undefined;
let forceJs = false;

/** Options of {@link initRecurrentGates}. */
export interface InitRecurrentGatesOptions {
  /** Compile again even if an earlier call succeeded or failed (tests). */
  reinit?: boolean;
  /** The module's text (tests of the fallback pass a broken one); default the real module. */
  source?: string;
}

/**
 * Compile the wasm gate-math module (once; later calls return the first outcome unless `reinit`). Never throws: a
 * failure (no `wabt`, no wasm SIMD, a compile, instantiation or self-test error) leaves the JS path in use and issues
 * one warning. `initBackend` awaits this; a fused pass run before it finishes uses the JS loops.
 */
export function initRecurrentGates(opts: InitRecurrentGatesOptions = {}): Promise<InternalsStatus> {
  if (opts.reinit === true) {
    compiled = null;
    status = undefined;
    pending = undefined;
    heapInstances = new WeakMap();
  }
  pending ??= compile(opts.source ?? lstmGatesWat(gruGatesWat())).then((s) => {
    status = s;
    if (!s.ok) warnOnce(`sweepq: wasm recurrent gate math disabled, using the JS loops (slower): ${s.reason}`);
    return s;
  });
  return pending;
}

async function compile(source: string): Promise<InternalsStatus> {
  let bytes: Uint8Array;
  try {
    const wabt = await (await import('wabt')).default();
    const mod = wabt.parseWat('recurrent-gates.wat', source, { simd: true });
    try {
      mod.validate();
      bytes = mod.toBinary({}).buffer;
    } finally {
      mod.destroy();
    }
  } catch (err) {
    return { ok: false, reason: `could not assemble the module: ${err instanceof Error ? err.message : String(err)}` };
  }
  try {
    if (wasmApi == null) return { ok: false, reason: 'WebAssembly is not available' };
    if (!wasmApi.validate(bytes)) return { ok: false, reason: 'WebAssembly SIMD is not available' };
    const mod = await wasmApi.compile(bytes);
    const err = selfTest(mod);
    if (err != null) return { ok: false, reason: `self-test failed: ${err}` };
    compiled = mod;
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `could not compile the module: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * The module's LSTM and GRU functions, both activations, on a small random step (H = 7: vector and scalar columns)
 * against the same math in JS (float64, the same rational tanh); returns what differs, or undefined.
 */
function selfTest(mod: WasmModule): string | undefined {
  for (const [cell, once] of [['LSTM', lstmSelfTestOnce], ['GRU', gruSelfTestOnce]] as const) {
    for (const hard of [false, true]) {
      const err = once(mod, hard);
      if (err !== undefined) return `${cell} (${hard ? 'hardSigmoid' : 'sigmoid'}): ${err}`;
    }
  }
  return undefined;
}

/** One step forward and back (B = 3, H = 7: vector and scalar columns; a recurrent mask), checked element-wise. */
function lstmSelfTestOnce(mod: WasmModule, hard: boolean): string | undefined {
  const B = 3;
  const H = 7;
  const G = 4 * H;
  const { f, ex, take, fill } = selfTestMemory(mod, 1234);
  const [z, r, cp, a, c, tc, h, hp, mask, dh, dc, dz, dbs, dbias] = [B * G, B * G, B * H, B * G, B * H, B * H, B * H, B * H, B * H, B * H, B * H, B * G, G, 2 * G].map(take) as number[] as [number, number, number, number, number, number, number, number, number, number, number, number, number, number];
  fill();
  f.fill(0, dbs, dbs + G);
  f.fill(0, dbias, dbias + 2 * G);
  for (let e = 0; e < B * H; e++) f[mask + e] = e % 3 === 0 ? 0 : 1.5;
  const [zv, rv, cpv, dhv, dcv, mv] = ([[z, B * G], [r, B * G], [cp, B * H], [dh, B * H], [dc, B * H], [mask, B * H]] as const).map(([at, n]) => f.slice(at, at + n)) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  (hard ? ex.fwdHard : ex.fwdSigmoid)(B, H, 4 * z, 4 * r, 4 * cp, 4 * a, 4 * c, 4 * tc, 4 * h, 4 * hp, 4 * mask);
  (hard ? ex.bwdHard : ex.bwdSigmoid)(B, H, 4 * a, 4 * tc, 4 * cp, 4 * dh, 4 * mask, 4 * dc, 4 * dz, 4 * dbs, 4 * dbias);
  const dbiasWant = new Float64Array(G);
  const diff = worstDiff();
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const g = b * G + j;
      const e = b * H + j;
      const pre = (q: number): number => zv[g + q * H]! + rv[g + q * H]!;
      const [i, fg, cand, o] = [gate(pre(0), hard), gate(pre(1), hard), tanhFast(pre(2)), gate(pre(3), hard)];
      const cv = fg * cpv[e]! + i * cand;
      const tcv = tanhFast(cv);
      diff.check('a', [f[a + g]!, f[a + g + H]!, f[a + g + 2 * H]!, f[a + g + 3 * H]!], [i, fg, cand, o]);
      diff.check('c, tanh(c), h, h·mask', [f[c + e]!, f[tc + e]!, f[h + e]!, f[hp + e]!], [cv, tcv, o * tcv, o * tcv * mv[e]!]);
      const dhm = dhv[e]! * mv[e]!;
      const dcNew = dcv[e]! + dhm * o * (1 - tcv * tcv);
      const want = [dcNew * cand * gateGrad(i, hard), dcNew * cpv[e]! * gateGrad(fg, hard), dcNew * i * (1 - cand * cand), dhm * tcv * gateGrad(o, hard)];
      want.forEach((w, q) => (dbiasWant[q * H + j] = dbiasWant[q * H + j]! + w));
      diff.check('dz', [f[dz + g]!, f[dz + g + H]!, f[dz + g + 2 * H]!, f[dz + g + 3 * H]!], want);
      diff.check('dc', [f[dc + e]!], [dcNew * fg]);
    }
  }
  diff.check('dbias', Array.from(new Float64Array(f.buffer, 4 * dbias, G)), Array.from(dbiasWant));
  return diff.result();
}

/** A small memory with the module over it; `fill` puts random floats in every array handed out by `take` so far. */
function selfTestMemory(mod: WasmModule, seed: number): { f: Float32Array; ex: GateExports; take: (n: number) => number; fill: () => void } {
  let s = seed;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 4 - 2;
  const mem = new wasmApi!.Memory({ initial: 1 });
  const ex = new wasmApi!.Instance(mod, { env: { mem } }).exports as unknown as GateExports;
  const f = new Float32Array(mem.buffer);
  const p = packer(4);
  const fill = (): void => {
    for (let i = 0; i < p.end; i++) f[i] = rand();
  };
  return { f, ex, take: (n) => p.take(n), fill };
}

/** The largest absolute difference seen between values got and expected, and where. */
function worstDiff(): { check(name: string, got: number[], want: number[]): void; result(): string | undefined } {
  let worst = 0;
  let what = '';
  return {
    check: (name, got, want) =>
      got.forEach((g, k) => {
        const d = Math.abs(g - want[k]!);
        if (!(d <= worst)) [worst, what] = [d, `${name}[${k}] is ${g}, expected ${want[k]}`];
      }),
    result: () => (worst <= 1e-5 ? undefined : what),
  };
}

/** One GRU step forward and back (B = 3, H = 7), checked element-wise. */
function gruSelfTestOnce(mod: WasmModule, hard: boolean): string | undefined {
  const B = 3;
  const H = 7;
  const G = 3 * H;
  const { f, ex, take, fill } = selfTestMemory(mod, 4242);
  const [z, bias, hm, a, rh, h, dh, dz, dhm, drh] = [B * G, G, B * H, B * G, B * H, B * H, B * H, B * G, B * H, B * H].map(take) as number[] as [number, number, number, number, number, number, number, number, number, number];
  fill();
  const [zv, bv, hv, dhv, drhv] = ([[z, B * G], [bias, G], [hm, B * H], [dh, B * H], [drh, B * H]] as const).map(([at, n]) => f.slice(at, at + n)) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  (hard ? ex.gruGatesHard : ex.gruGatesSigmoid)(B, H, 4 * z, 4 * bias, 4 * hm, 4 * a, 4 * rh);
  ex.gruOut(B, H, 4 * z, 4 * bias, 4 * hm, 4 * a, 4 * h);
  (hard ? ex.gruBwdAHard : ex.gruBwdASigmoid)(B, H, 4 * a, 4 * hm, 4 * dh, 4 * dz, 4 * dhm);
  (hard ? ex.gruBwdBHard : ex.gruBwdBSigmoid)(B, H, 4 * a, 4 * hm, 4 * drh, 4 * dz, 4 * dhm);
  const diff = worstDiff();
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const g = b * G + j;
      const e = b * H + j;
      const zg = gate(zv[g]! + bv[j]!, hard);
      const rg = gate(zv[g + H]! + bv[j + H]!, hard);
      const hh = tanhFast(zv[g + 2 * H]! + bv[j + 2 * H]!);
      diff.check('z, r, hh', [f[a + g]!, f[a + g + H]!, f[a + g + 2 * H]!], [zg, rg, hh]);
      diff.check('r·hm, h', [f[rh + e]!, f[h + e]!], [rg * hv[e]!, zg * hv[e]! + (1 - zg) * hh]);
      const want = [dhv[e]! * (hv[e]! - hh) * gateGrad(zg, hard), drhv[e]! * hv[e]! * gateGrad(rg, hard), dhv[e]! * (1 - zg) * (1 - hh * hh)];
      diff.check('dz', [f[dz + g]!, f[dz + g + H]!, f[dz + g + 2 * H]!], want);
      diff.check('dhm', [f[dhm + e]!], [dhv[e]! * zg + drhv[e]! * rg]);
    }
  }
  return diff.result();
}

/** Force the JS gate math (tests of the fallback and of agreement); returns the previous setting. */
export function forceJsGateMath(on: boolean): boolean {
  const prev = forceJs;
  forceJs = on;
  return prev;
}

/** Whether the wasm gate math is in use: compiled and self-tested, and not forced off. */
export function recurrentGatesStatus(): InternalsStatus {
  if (forceJs) return { ok: false, reason: 'JS gate math forced' };
  if (status == null) return { ok: false, reason: 'wasm gate math not compiled yet' };
  return status;
}
