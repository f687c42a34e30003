/**
 * Work memory and per-timestep gate math of the fused LSTM. On the wasm backend with its fast paths on, the wasm module
 * runs over tensors on the tfjs heap itself ({@link HeapGates}, no copies between the gate math and the matmuls).
 * Otherwise, in two interchangeable implementations over a workspace of their own:
 *
 * - `wasm`: the hand-written SIMD module of `lstm-gates-wat.ts`, compiled at load time with `wabt` (see there for why
 *   it is hand-written). Each workspace is one instance of the module over its own `WebAssembly.Memory`, and all the
 *   arrays of a forward pass and its gradient live in that memory, so a step is one call with no copies in or out.
 * - `js`: `forwardStep` / `backwardStep` of `lstm-math.ts` over one plain `Float32Array` with the same layout; used
 *   when the module is not (yet) compiled, when wasm SIMD is unavailable or the module fails to compile, instantiate
 *   or pass its self-test (with one warning), or when forced by {@link forceJsGateMath}.
 *
 * Either way the caller sees one float array `buf` with the inputs and outputs at fixed offsets: it writes the input
 * projection `z`, and between steps the recurrent projection `r` (forward) or the gradient `dh` (backward), and reads
 * the saved `h_{t-1}` sequence `HP`, the last `h` and the pre-activation gradients `dZ` (also transposed, `dZᵀ`).
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { wasmFastPathStatus, warnOnce, type InternalsStatus } from './fast-kernels.js';
import { gruGatesWat } from './gru-gates-wat.js';
import { lstmGatesWat } from './lstm-gates-wat.js';
import { backwardStep, forwardStep, sigmoidFast, tanhFast } from './lstm-math.js';

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

/** Arrays and gate math of one fused-LSTM pass (forward and its gradient) of shape T, B, H. */
export interface GateWorkspace {
  readonly kind: 'wasm' | 'js';
  readonly T: number;
  readonly B: number;
  readonly H: number;
  /** All float arrays of the pass; the offsets below are element indices into it. */
  readonly buf: Float32Array;
  /** `z` `[T, B, 4H]`: the input projection (bias included), written by the caller; overwritten by `dZ` in backward. */
  readonly zOff: number;
  /** `HP` `[T + 1, B, H]`: row block t is the (masked) `h_{t-1}` fed to step t; block 0 is zero. */
  readonly hpOff: number;
  /** `dZᵀ` `[4H, T·B]`: the pre-activation gradients transposed (column t·B + b), written by {@link backward}. */
  readonly ztOff: number;
  /** `[B, 4H]` view: `h_{t-1} · U` for the next {@link forward} step, written by the caller (for t > 0). */
  readonly r: Float32Array;
  /** `[B, H]` view: `h_t` of the last {@link forward} step. */
  readonly h: Float32Array;
  /** `[B, H]` view: the gradient w.r.t. `h_t` before the recurrent mask, written by the caller before each {@link backward} step. */
  readonly dh: Float32Array;
  /** Start a forward pass: `HP[0] = 0`, recurrent mask `[B, H]` (or none). */
  begin(recurrentMask: Float32Array | null): void;
  /** Forward step t (ascending from 0). */
  forward(t: number, hard: boolean): void;
  /** Start the backward pass with the output gradient `dy` `[B, H]`. */
  beginBackward(dy: Float32Array): void;
  /** Backward step t (descending from T - 1): writes `dZ[t]` at `zOff + t·B·4H` and its transpose into `dZᵀ`. */
  backward(t: number, hard: boolean): void;
  /** The bias gradient `[4H]` accumulated by the backward steps. */
  dbias(): Float32Array;
}

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

/** The gate state both kinds of workspace keep in a block of their own (element offsets). */
interface StateLayout {
  zeros: number;
  ones: number;
  a: number;
  c: number;
  tc: number;
  h: number;
  dh: number;
  dc: number;
  mask: number;
  dbs: number;
  dbias: number;
}

function stateLayout(take: (n: number) => number, T: number, B: number, H: number): StateLayout {
  const G = 4 * H;
  return {
    zeros: take(B * G),
    ones: take(B * H),
    a: take(T * B * G),
    c: take(T * B * H),
    tc: take(T * B * H),
    h: take(B * H),
    dh: take(B * H),
    dc: take(B * H),
    mask: take(B * H),
    dbs: take(G),
    dbias: take(2 * G), // float64
  };
}

/** Element offsets of the arrays of a workspace in its own memory (each 16-byte aligned; offset 0 is left unused). */
interface Layout extends StateLayout {
  z: number;
  hp: number;
  zt: number;
  r: number;
  total: number;
}

function layout(T: number, B: number, H: number): Layout {
  const p = packer(4);
  const state = stateLayout(p.take, T, B, H);
  const z = p.take(T * B * 4 * H);
  const hp = p.take((T + 1) * B * H);
  const zt = p.take(4 * H * T * B);
  const r = p.take(B * 4 * H);
  return { ...state, z, hp, zt, r, total: p.end };
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
  bwdSigmoidNT: StepFunc;
  bwdHardNT: StepFunc;
}

/**
 * What both workspaces share: the layout over one float array, the caller's offsets and views into it, and the
 * bias gradient, accumulated in float64.
 */
abstract class GatesBase {
  readonly zOff: number;
  readonly hpOff: number;
  readonly ztOff: number;
  readonly r: Float32Array;
  readonly h: Float32Array;
  readonly dh: Float32Array;

  constructor(
    readonly T: number,
    readonly B: number,
    readonly H: number,
    protected readonly L: Layout,
    readonly buf: Float32Array,
    protected readonly dbias64: Float64Array,
  ) {
    this.zOff = L.z;
    this.hpOff = L.hp;
    this.ztOff = L.zt;
    this.r = buf.subarray(L.r, L.r + B * 4 * H);
    this.h = buf.subarray(L.h, L.h + B * H);
    this.dh = buf.subarray(L.dh, L.dh + B * H);
  }

  dbias(): Float32Array {
    return Float32Array.from(this.dbias64);
  }
}

class WasmGates extends GatesBase implements GateWorkspace {
  readonly kind = 'wasm';
  private readonly ex: GateExports;
  private hasMask = false;

  constructor(mod: WasmModule, T: number, B: number, H: number) {
    const L = layout(T, B, H);
    const mem = new wasmApi!.Memory({ initial: Math.ceil((L.total * 4) / 65536) });
    // The memory never grows, so views stay valid.
    super(T, B, H, L, new Float32Array(mem.buffer), new Float64Array(mem.buffer, L.dbias * 4, 4 * H));
    this.ex = new wasmApi!.Instance(mod, { env: { mem } }).exports as unknown as GateExports;
    this.buf.fill(1, L.ones, L.ones + B * H);
  }

  begin(recurrentMask: Float32Array | null): void {
    const { B, H, L } = this;
    this.buf.fill(0, L.hp, L.hp + B * H);
    this.hasMask = recurrentMask !== null;
    if (recurrentMask !== null) this.buf.set(recurrentMask.subarray(0, B * H), L.mask);
  }

  forward(t: number, hard: boolean): void {
    const { B, H, L } = this;
    const BG = 4 * B * H;
    const BH = B * H;
    (hard ? this.ex.fwdHard : this.ex.fwdSigmoid)(
      B,
      H,
      4 * (L.z + t * BG),
      4 * (t > 0 ? L.r : L.zeros),
      4 * (t > 0 ? L.c + (t - 1) * BH : L.zeros),
      4 * (L.a + t * BG),
      4 * (L.c + t * BH),
      4 * (L.tc + t * BH),
      4 * L.h,
      4 * (L.hp + (t + 1) * BH),
      4 * (this.hasMask ? L.mask : L.ones),
    );
  }

  beginBackward(dy: Float32Array): void {
    const { B, H, L } = this;
    this.dh.set(dy.subarray(0, B * H));
    this.buf.fill(0, L.dc, L.dc + B * H);
    this.buf.fill(0, L.dbs, L.dbs + 4 * H);
    this.dbias64.fill(0);
  }

  backward(t: number, hard: boolean): void {
    const { B, H, L, T } = this;
    const BG = 4 * B * H;
    const BH = B * H;
    (hard ? this.ex.bwdHard : this.ex.bwdSigmoid)(
      B,
      H,
      4 * (L.a + t * BG),
      4 * (L.tc + t * BH),
      4 * (t > 0 ? L.c + (t - 1) * BH : L.zeros),
      4 * L.dh,
      // The output gradient (first step) is not masked; the gradients through h_{t-1} are.
      4 * (this.hasMask && t < T - 1 ? L.mask : L.ones),
      4 * L.dc,
      4 * (L.z + t * BG),
      4 * L.dbs,
      4 * L.dbias,
      4 * (L.zt + t * B),
      T * B,
    );
  }
}

class JsGates extends GatesBase implements GateWorkspace {
  readonly kind = 'js';
  private readonly z: Float32Array;
  private readonly a: Float32Array;
  private readonly c: Float32Array;
  private readonly tc: Float32Array;
  private readonly dc: Float64Array;
  private mask: Float32Array | null = null;

  constructor(T: number, B: number, H: number) {
    const L = layout(T, B, H);
    super(T, B, H, L, new Float32Array(L.total), new Float64Array(4 * H));
    this.z = this.buf.subarray(L.z);
    this.a = this.buf.subarray(L.a);
    this.c = this.buf.subarray(L.c);
    this.tc = this.buf.subarray(L.tc);
    this.dc = new Float64Array(B * H);
  }

  begin(recurrentMask: Float32Array | null): void {
    const { B, H, L } = this;
    this.buf.fill(0, L.hp, L.hp + B * H);
    this.mask = recurrentMask;
  }

  forward(t: number, hard: boolean): void {
    const { B, H, L } = this;
    const BH = B * H;
    const s = t > 0;
    forwardStep(B, H, hard, this.z, t * 4 * BH, s ? this.r : null, s ? this.c : null, (t - 1) * BH, this.a, t * 4 * BH, this.c, this.tc, t * BH, this.h);
    const off = L.hp + (t + 1) * BH;
    const h = this.h;
    const mask = this.mask;
    if (mask === null) this.buf.set(h, off);
    else for (let k = 0; k < BH; k++) this.buf[off + k] = h[k]! * mask[k]!;
  }

  beginBackward(dy: Float32Array): void {
    this.dh.set(dy.subarray(0, this.B * this.H));
    this.dc.fill(0);
    this.dbias64.fill(0);
  }

  backward(t: number, hard: boolean): void {
    const { B, H, T } = this;
    const BH = B * H;
    const mask = this.mask;
    if (mask !== null && t < T - 1) for (let k = 0; k < BH; k++) this.dh[k] = this.dh[k]! * mask[k]!;
    backwardStep(B, H, hard, this.a, t * 4 * BH, this.tc, t * BH, t > 0 ? this.c : null, (t - 1) * BH, this.dh, this.dc, this.z, t * 4 * BH, this.dbias64);
    const G = 4 * H;
    const TB = T * B;
    const buf = this.buf;
    const src = this.L.z + t * G * B;
    const dst = this.L.zt + t * B;
    for (let b = 0; b < B; b++) for (let k = 0; k < G; k++) buf[dst + k * TB + b] = buf[src + b * G + k]!;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The gate math on the tfjs wasm backend's own heap.

/** What {@link HeapGates} needs from tfjs-backend-wasm's `BackendWasm` (4.22.0; see `fast-kernels.ts`). */
interface HeapBackend {
  wasm: { asm?: { memory?: unknown } };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

/** Element offsets inside the auxiliary tensor of a {@link HeapGates} (16-byte aligned from its start). */
interface AuxLayout extends StateLayout {
  /** Where the last step writes its (unused) masked `h`: the `hp` tensor holds only the T inputs of the steps. */
  hpLast: number;
  total: number;
}

function auxLayout(T: number, B: number, H: number): AuxLayout {
  const p = packer(0);
  const state = stateLayout(p.take, T, B, H);
  const hpLast = p.take(B * H);
  return { ...state, hpLast, total: p.end + 4 }; // slack to align the start to 16 bytes
}

/**
 * The fused LSTM's work memory as tensors on the tfjs wasm backend's heap, with the gate module instantiated over
 * that same memory: the input projection `z` (the caller's matmul output, overwritten in place by `dZ`), the
 * `h_{t-1}` sequence `hp` and the transposed gradients `zt` are ordinary tensors, so the weight- and input-gradient
 * matmuls take them as they are, and the per-step matmuls read and write the heap directly. Compared with a workspace
 * in its own memory this saves copying about 10 MB per seed-shape step (z out of the heap, dZ, dZᵀ and HP back in).
 *
 * Lifetime: the tensors are allocated per pass (fresh tensor ids, so tfjs-wasm's per-id cache of packed matmul
 * operands never sees stale values) and kept out of tidy scopes; {@link dispose} frees them (the gradient does, or
 * the forward pass itself when no gradient is being recorded). Byte addresses stay valid while the heap grows;
 * typed-array views do not, so every view is made afresh.
 */
export class HeapGates {
  readonly kind = 'heap';
  /** `h_{t-1}` fed to step t, `[T·B, H]` (block 0 zero, masked by the recurrent mask). */
  readonly hp: tf.Tensor2D;
  /** `dZᵀ` `[4H, T·B]`, written by {@link backward}; null when made without it (`transposed` false). */
  readonly zt: tf.Tensor2D | null;
  private readonly aux: tf.Tensor1D;
  private readonly zB: number;
  private readonly hpB: number;
  private readonly ztB: number;
  /** Element index of the aux layout's origin in the heap's float view. */
  private readonly auxE: number;
  private readonly L: AuxLayout;
  private hasMask = false;
  private disposed = false;

  constructor(
    private readonly ex: GateExports,
    private readonly memory: WasmMemory,
    backend: HeapBackend,
    readonly T: number,
    readonly B: number,
    readonly H: number,
    z: tf.Tensor,
    private readonly transposed = true,
  ) {
    const G = 4 * H;
    const at = (t: tf.Tensor): number => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const make = (shape: number[]): tf.Tensor => tf.keep(tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, 'float32')));
    this.L = auxLayout(T, B, H);
    this.hp = make([T * B, H]) as tf.Tensor2D;
    this.zt = transposed ? (make([G, T * B]) as tf.Tensor2D) : null;
    this.aux = make([this.L.total]) as tf.Tensor1D;
    this.zB = at(z);
    this.hpB = at(this.hp);
    this.ztB = this.zt === null ? 0 : at(this.zt);
    const auxB = at(this.aux);
    this.auxE = Math.ceil(auxB / 16) * 4;
    const f = this.f32();
    f.fill(0, this.auxE + this.L.zeros, this.auxE + this.L.zeros + B * G);
    f.fill(1, this.auxE + this.L.ones, this.auxE + this.L.ones + B * H);
  }

  /** A float view of the whole heap, made now (an allocation since an earlier one may have detached it). */
  private f32(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }

  /** Byte address of aux element `e`. */
  private aux4(e: number): number {
    return 4 * (this.auxE + e);
  }

  /** Byte address of `h_{t-1}` for step t (`[B, H]`), the left operand of step t's recurrent matmul. */
  hpAddr(t: number): number {
    return this.hpB + 4 * t * this.B * this.H;
  }

  /** Byte address of `dZ[t]` (`[B, 4H]`), the left operand of step t's backward recurrent matmul. */
  dzAddr(t: number): number {
    return this.zB + 16 * t * this.B * this.H;
  }

  /** Byte address of the output gradient written by {@link beginBackward}: the `dh` of the last step. */
  get dhAddr(): number {
    return this.aux4(this.L.dh);
  }

  /** Start a forward pass: `HP[0] = 0`, recurrent mask `[B, H]` (or none). */
  begin(recurrentMask: Float32Array | null): void {
    const { B, H } = this;
    const f = this.f32();
    f.fill(0, this.hpB / 4, this.hpB / 4 + B * H);
    this.hasMask = recurrentMask !== null;
    if (recurrentMask !== null) f.set(recurrentMask.subarray(0, B * H), this.auxE + this.L.mask);
  }

  /**
   * Forward step t with the `[B, 4H]` term added to `z[t]` at byte address `rAddr`: `h_{t-1} · U`, or (when the caller
   * has added that into `z[t]` itself) the bias in every row; null: zeros (t = 0 of a pass whose `z` has the bias).
   */
  forward(t: number, hard: boolean, rAddr: number | null): void {
    const { B, H, L, T } = this;
    const BH = B * H;
    (hard ? this.ex.fwdHard : this.ex.fwdSigmoid)(
      B,
      H,
      this.dzAddr(t),
      rAddr ?? this.aux4(L.zeros),
      t > 0 ? this.aux4(L.c + (t - 1) * BH) : this.aux4(L.zeros),
      this.aux4(L.a + t * 4 * BH),
      this.aux4(L.c + t * BH),
      this.aux4(L.tc + t * BH),
      this.aux4(L.h),
      t + 1 < T ? this.hpAddr(t + 1) : this.aux4(L.hpLast),
      this.aux4(this.hasMask ? L.mask : L.ones),
    );
  }

  /** A copy of `h_T` (after the last forward step), `[B, H]`. */
  lastH(): Float32Array {
    const e = this.auxE + this.L.h;
    return this.f32().slice(e, e + this.B * this.H);
  }

  /** Start the backward pass with the output gradient `dy` `[B, H]` (written at {@link dhAddr}). */
  beginBackward(dy: Float32Array): void {
    const { B, H, L } = this;
    const f = this.f32();
    f.set(dy.subarray(0, B * H), this.auxE + L.dh);
    f.fill(0, this.auxE + L.dc, this.auxE + L.dc + B * H);
    f.fill(0, this.auxE + L.dbs, this.auxE + L.dbs + 4 * H);
    f.fill(0, this.auxE + L.dbias, this.auxE + L.dbias + 8 * H);
  }

  /**
   * Backward step t (descending from T - 1) with the gradient w.r.t. `h_t` at byte address `dhAddr`: writes `dZ[t]`
   * over `z[t]` and (unless made without) its transpose into {@link zt}.
   */
  backward(t: number, hard: boolean, dhAddr: number): void {
    const { B, H, L, T } = this;
    const BH = B * H;
    const ex = this.ex;
    (this.transposed ? (hard ? ex.bwdHard : ex.bwdSigmoid) : hard ? ex.bwdHardNT : ex.bwdSigmoidNT)(
      B,
      H,
      this.aux4(L.a + t * 4 * BH),
      this.aux4(L.tc + t * BH),
      t > 0 ? this.aux4(L.c + (t - 1) * BH) : this.aux4(L.zeros),
      dhAddr,
      this.aux4(this.hasMask && t < T - 1 ? L.mask : L.ones),
      this.aux4(L.dc),
      this.dzAddr(t),
      this.aux4(L.dbs),
      this.aux4(L.dbias),
      this.ztB + 4 * t * B,
      T * B,
    );
  }

  /** The bias gradient `[4H]` accumulated by the backward steps. */
  dbias(): Float32Array {
    return Float32Array.from(new Float64Array(this.memory.buffer, this.aux4(this.L.dbias), 4 * this.H));
  }

  /** Free the tensors allocated here (not `z`, which the caller owns). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose(this.zt === null ? [this.hp, this.aux] : [this.hp, this.zt, this.aux]);
  }
}

/** One gate-module instance per backend memory. */
let heapInstances = new WeakMap<object, GateExports | null>();
let forceOwnMemory = false;

/** Force the gate math into a memory of its own (tests of that path); returns the previous setting. */
export function forceOwnMemoryGates(on: boolean): boolean {
  const prev = forceOwnMemory;
  forceOwnMemory = on;
  return prev;
}

/**
 * A {@link HeapGates} for a pass of shape T, B, H over the input projection `z` (`[T·B, 4H]`, a tensor of the active
 * wasm backend that the caller owns and lets the gradient overwrite), or null when that path is unavailable: not the
 * wasm backend, its fast paths off (tfjs version, self-test), the gate module not compiled, a memory the module cannot
 * import (a threaded build's shared memory), or forced off. With `transposed` false the backward steps write no `dZᵀ`
 * (its tensor is not made), for callers that read `dZ` as it is.
 */
export function takeHeapGates(T: number, B: number, H: number, z: tf.Tensor, transposed = true): HeapGates | null {
  const ex = heapGateKernels();
  if (ex === null) return null;
  const backend = tf.backend() as unknown as HeapBackend;
  return new HeapGates(ex, backend.wasm.asm!.memory as WasmMemory, backend, T, B, H, z, transposed);
}

/**
 * The gate module's step functions instantiated over the active wasm backend's heap (addresses are heap byte
 * addresses), or null when unavailable: not the wasm backend, its fast paths off, the module not compiled, a memory
 * the module cannot import, or forced off ({@link forceJsGateMath}, {@link forceOwnMemoryGates}).
 */
export function heapGateKernels(): GateExports | null {
  if (compiled == null || forceJs || forceOwnMemory || wasmApi == null || !wasmFastPathStatus().ok) return null;
  const backend = tf.backend() as unknown as HeapBackend;
  const memory = backend.wasm?.asm?.memory;
  if (memory == null || !(memory instanceof (wasmApi.Memory as unknown as abstract new () => object))) return null;
  let ex = heapInstances.get(memory);
  if (ex === undefined) {
    try {
      ex = new wasmApi.Instance(compiled, { env: { mem: memory } }).exports as unknown as GateExports;
    } catch (err) {
      warnOnce(`sweepq: the LSTM gate math cannot run on the tfjs heap, using a memory of its own: ${err instanceof Error ? err.message : String(err)}`);
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

/** Options of {@link initLstmGates}. */
export interface InitLstmGatesOptions {
  /** Compile again even if an earlier call succeeded or failed (tests). */
  reinit?: boolean;
  /** The module's text (tests of the fallback pass a broken one); default the real module. */
  source?: string;
}

/**
 * Compile the wasm gate-math module (once; later calls return the first outcome unless `reinit`). Never throws: a
 * failure (no `wabt`, no wasm SIMD, a compile, instantiation or self-test error) leaves the JS path in use and issues
 * one warning. `initBackend` awaits this; a fused LSTM run before it finishes uses the JS path and starts it.
 */
export function initLstmGates(opts: InitLstmGatesOptions = {}): Promise<InternalsStatus> {
  if (opts.reinit === true) {
    compiled = null;
    status = undefined;
    pending = undefined;
    pool.clear();
    heapInstances = new WeakMap();
  }
  pending ??= compile(opts.source ?? lstmGatesWat(gruGatesWat())).then((s) => {
    status = s;
    if (!s.ok) warnOnce(`sweepq: wasm LSTM gate math disabled, using the JS loops (slower): ${s.reason}`);
    return s;
  });
  return pending;
}

async function compile(source: string): Promise<InternalsStatus> {
  let bytes: Uint8Array;
  try {
    const wabt = await (await import('wabt')).default();
    const mod = wabt.parseWat('lstm-gates.wat', source, { simd: true });
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
    const err = selfTest(mod) ?? gruSelfTest(mod);
    if (err != null) return { ok: false, reason: `self-test failed: ${err}` };
    compiled = mod;
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `could not compile the module: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * Runs both implementations on a small random pass (H not a multiple of 4: vector and scalar columns; B = 5: vector
 * and scalar rows of the dZᵀ transpose) and compares.
 */
function selfTest(mod: WasmModule): string | undefined {
  const T = 3;
  const B = 5;
  const H = 7;
  let s = 12345;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 4 - 2;
  for (const hard of [false, true]) {
    const w = new WasmGates(mod, T, B, H);
    const j = new JsGates(T, B, H);
    const mask = Float32Array.from({ length: B * H }, (_, k) => (k % 3 === 0 ? 0 : 1.5));
    const z = Float32Array.from({ length: T * B * 4 * H }, rand);
    const rs = Array.from({ length: T }, () => Float32Array.from({ length: B * 4 * H }, rand));
    const dhs = Array.from({ length: T }, () => Float32Array.from({ length: B * H }, rand));
    for (const ws of [w, j]) {
      ws.buf.set(z, ws.zOff);
      ws.begin(mask);
      for (let t = 0; t < T; t++) {
        ws.r.set(rs[t]!);
        ws.forward(t, hard);
      }
      ws.beginBackward(dhs[T - 1]!);
      for (let t = T - 1; t >= 0; t--) {
        if (t < T - 1) ws.dh.set(dhs[t]!);
        ws.backward(t, hard);
      }
    }
    const diff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k]!)), 0);
    const parts: Array<[string, number]> = [
      ['h', diff(w.h, j.h)],
      ['HP', diff(w.buf.subarray(w.hpOff, w.hpOff + (T + 1) * B * H), j.buf.subarray(j.hpOff, j.hpOff + (T + 1) * B * H))],
      ['dZ', diff(w.buf.subarray(w.zOff, w.zOff + T * B * 4 * H), j.buf.subarray(j.zOff, j.zOff + T * B * 4 * H))],
      ['dZT', diff(w.buf.subarray(w.ztOff, w.ztOff + T * B * 4 * H), j.buf.subarray(j.ztOff, j.ztOff + T * B * 4 * H))],
      ['dbias', diff(w.dbias(), j.dbias())],
    ];
    for (const [name, d] of parts) {
      if (!(d <= 1e-5)) return `${hard ? 'hardSigmoid' : 'sigmoid'} ${name} differs from the JS path by ${d}`;
    }
  }
  return undefined;
}

/**
 * The GRU functions of the module on a small random step (H = 7: vector and scalar columns) against the same math in
 * JS (float64, the same rational tanh); returns what differs, or undefined.
 */
function gruSelfTest(mod: WasmModule): string | undefined {
  for (const hard of [false, true]) {
    const err = gruSelfTestOnce(mod, hard);
    if (err !== undefined) return `GRU (${hard ? 'hardSigmoid' : 'sigmoid'}): ${err}`;
  }
  return undefined;
}

function gruSelfTestOnce(mod: WasmModule, hard: boolean): string | undefined {
  const B = 3;
  const H = 7;
  const G = 3 * H;
  let s = 4242;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 4 - 2;
  const mem = new wasmApi!.Memory({ initial: 1 });
  const ex = new wasmApi!.Instance(mod, { env: { mem } }).exports as unknown as GateExports;
  const f = new Float32Array(mem.buffer);
  const p = packer(4);
  const [z, bias, hm, a, rh, h, dh, dz, dhm, drh] = [B * G, G, B * H, B * G, B * H, B * H, B * H, B * G, B * H, B * H].map((n) => p.take(n)) as [number, number, number, number, number, number, number, number, number, number];
  for (let i = 0; i < p.end; i++) f[i] = rand();
  const zv = f.slice(z, z + B * G);
  const bv = f.slice(bias, bias + G);
  const hv = f.slice(hm, hm + B * H);
  const dhv = f.slice(dh, dh + B * H);
  const drhv = f.slice(drh, drh + B * H);
  (hard ? ex.gruGatesHard : ex.gruGatesSigmoid)(B, H, 4 * z, 4 * bias, 4 * hm, 4 * a, 4 * rh);
  ex.gruOut(B, H, 4 * z, 4 * bias, 4 * hm, 4 * a, 4 * h);
  (hard ? ex.gruBwdAHard : ex.gruBwdASigmoid)(B, H, 4 * a, 4 * hm, 4 * dh, 4 * dz, 4 * dhm);
  (hard ? ex.gruBwdBHard : ex.gruBwdBSigmoid)(B, H, 4 * a, 4 * hm, 4 * drh, 4 * dz, 4 * dhm);
  const gate = (v: number): number => (hard ? Math.max(0, Math.min(1, 0.2 * v + 0.5)) : sigmoidFast(v));
  const dGate = (g: number): number => (hard ? (g > 0 && g < 1 ? 0.2 : 0) : g * (1 - g));
  let worst = 0;
  let what = '';
  const check = (name: string, got: number, want: number): void => {
    const d = Math.abs(got - want);
    if (!(d <= worst)) [worst, what] = [d, `${name} is ${got}, expected ${want}`];
  };
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const g = b * G + j;
      const e = b * H + j;
      const zg = gate(zv[g]! + bv[j]!);
      const rg = gate(zv[g + H]! + bv[j + H]!);
      const hh = tanhFast(zv[g + 2 * H]! + bv[j + 2 * H]!);
      check('z', f[a + g]!, zg);
      check('r', f[a + g + H]!, rg);
      check('hh', f[a + g + 2 * H]!, hh);
      check('r·hm', f[rh + e]!, rg * hv[e]!);
      check('h', f[h + e]!, zg * hv[e]! + (1 - zg) * hh);
      check('dz_z', f[dz + g]!, dhv[e]! * (hv[e]! - hh) * dGate(zg));
      check('dz_r', f[dz + g + H]!, drhv[e]! * hv[e]! * dGate(rg));
      check('dz_h', f[dz + g + 2 * H]!, dhv[e]! * (1 - zg) * (1 - hh * hh));
      check('dhm', f[dhm + e]!, dhv[e]! * zg + drhv[e]! * rg);
    }
  }
  return worst <= 1e-5 ? undefined : what;
}

/** Force the JS gate math (tests of the fallback and of agreement); returns the previous setting. */
export function forceJsGateMath(on: boolean): boolean {
  const prev = forceJs;
  forceJs = on;
  return prev;
}

/** Whether the wasm gate math is in use: compiled and self-tested, and not forced off. */
export function lstmGatesStatus(): InternalsStatus {
  if (forceJs) return { ok: false, reason: 'JS gate math forced' };
  if (status == null) return { ok: false, reason: 'wasm gate math not compiled yet' };
  return status;
}

// Workspaces are pooled by kind and shape: a seed-shape pass needs about 9 MB, and allocating (zero-filling) and
// collecting that every step cost more than the gate math itself. A forward pass takes one; its gradient gives it
// back. Passes without a gradient (inference) leave theirs to the GC.
const pool = new Map<string, GateWorkspace[]>();
const POOL_DEPTH = 4;

/** A workspace for a pass of shape T, B, H: wasm when {@link lstmGatesStatus} is ok, else JS. */
export function takeGateWorkspace(T: number, B: number, H: number): GateWorkspace {
  if (status == null && pending == null) void initLstmGates();
  const wasm = compiled != null && !forceJs;
  const key = `${wasm ? 'wasm' : 'js'}:${T}x${B}x${H}`;
  const ws = pool.get(key)?.pop();
  if (ws != null) return ws;
  if (wasm) {
    try {
      return new WasmGates(compiled!, T, B, H);
    } catch (err) {
      // E.g. no address space left for another wasm memory (inference passes leave theirs to the GC).
      warnOnce(`sweepq: could not make a wasm LSTM workspace, using the JS loops for this pass: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return new JsGates(T, B, H);
}

/** Return a workspace taken with {@link takeGateWorkspace} once its pass is done. */
export function giveGateWorkspace(ws: GateWorkspace): void {
  const key = `${ws.kind}:${ws.T}x${ws.B}x${ws.H}`;
  let list = pool.get(key);
  if (list == null) pool.set(key, (list = []));
  if (list.length < POOL_DEPTH && !list.includes(ws)) list.push(ws);
}
