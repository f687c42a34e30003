/**
 * WebAssembly text source of the LSTM's per-timestep gate math (SIMD, f32x4), the module's GRU functions being
 * `gru-gates-wat.ts`'s; the fused op (`fused-recurrent.ts`) has the same math in JS loops for when the module is off.
 *
 * Why hand-written: the gate math is a long chain of tiny element-wise ops (three sigmoids, two tanh and a dozen
 * multiply-adds per cell, 100 steps x 32 x 64 cells per batch) that tfjs has no fused kernel for. In JS it was about a
 * quarter of a training step on the wasm backend; four lanes at a time in wasm, with the same rational tanh, it is
 * several times faster. No binary is committed: this module only builds the text, `recurrent-gates.ts` compiles it at load
 * time with `wabt` and falls back to the JS loops when that or wasm SIMD is unavailable.
 *
 * The text is generated from one description of the math per direction, instantiated twice: for `v128` (four cells at
 * a time) and for scalar `f32` (the tail of a row when H is not a multiple of 4), so both agree by construction.
 *
 * Exports (all addresses are byte offsets into the imported memory `env.mem`; gates
 * `[B, 4H]` in Keras order i, f, c (`g`), o, states `[B, H]`):
 *
 *   fwdSigmoid / fwdHard (B, H, z, r, cp, a, c, tc, h, hp, mask)
 *     zr = z + r; i, f, o = σ(zr); g = tanh(zr); c = f·cp + i·g; tc = tanh(c); h = o·tc; hp = h·mask
 *   bwdSigmoid / bwdHard (B, H, a, tc, cp, dh, mask, dc, dz, dbs, dbias)
 *     dh' = dh·mask; dc' = dc + dh'·o·(1 - tc²); dz = gate-activation gradients; dc ← dc'·f;
 *     dbias (f64 [4H]) += column sums of dz (summed in f32 over the batch in `dbs`, which must be zero on entry and is
 *     left zero)
 *
 * The tanh is the clamped rational approximation of {@link tanhFast} (float32-level accuracy); σ(x) = ½ + ½·tanh(x/2).
 */
import { TANH_CLAMP, TANH_P, TANH_Q } from './activations.js';

/** The element type a body is generated for. */
export interface Ops {
  /** Bytes per element group (16 for v128, 4 for f32). */
  readonly width: number;
  readonly type: 'v128' | 'f32';
  load(addr: string): string;
  store(addr: string, v: string): string;
  add(a: string, b: string): string;
  sub(a: string, b: string): string;
  mul(a: string, b: string): string;
  div(a: string, b: string): string;
  /** `b < a ? b : a` (no NaN handling needed here). */
  min(a: string, b: string): string;
  /** `a < b ? b : a`. */
  max(a: string, b: string): string;
  c(x: number): string;
  /** `0 < x < 1 ? v : 0` (the hard sigmoid's gradient gate). */
  inUnit(x: string, v: string): string;
}

function lit(x: number): string {
  // A float literal WAT accepts (JS prints e.g. 1e-7 or 0.5, both valid).
  return Number.isFinite(x) ? String(x) : (() => { throw new Error(`bad constant ${x}`); })();
}

const V128: Ops = {
  width: 16,
  type: 'v128',
  load: (a) => `(v128.load ${a})`,
  store: (a, v) => `(v128.store ${a} ${v})`,
  add: (a, b) => `(f32x4.add ${a} ${b})`,
  sub: (a, b) => `(f32x4.sub ${a} ${b})`,
  mul: (a, b) => `(f32x4.mul ${a} ${b})`,
  div: (a, b) => `(f32x4.div ${a} ${b})`,
  // pmin/pmax are single minps/maxps instructions; the IEEE min/max need a NaN fix-up sequence.
  min: (a, b) => `(f32x4.pmin ${a} ${b})`,
  max: (a, b) => `(f32x4.pmax ${a} ${b})`,
  // A local set once per call (see rowLoopFunc): V8 materialises a v128.const with several instructions at every use,
  // and the tanh alone uses a dozen constants; in the forward step that cost more than the arithmetic.
  c: (x) => `(local.get $${v128Const(x)})`,
  inUnit: (x, v) => `(v128.and ${v} (v128.and (f32x4.gt ${x} ${V128.c(0)}) (f32x4.lt ${x} ${V128.c(1)})))`,
};

/** Names of the v128 constant locals (`$kc<n>`), by value. */
const v128Consts = new Map<number, string>();
function v128Const(x: number): string {
  let name = v128Consts.get(x);
  if (name == null) v128Consts.set(x, (name = `kc${v128Consts.size}`));
  return name;
}

/** Declarations and initialisation of the constant locals that `text` reads. */
function constLocals(text: string): { decls: string; init: string } {
  const used = [...v128Consts].filter(([, name]) => text.includes(`$${name})`));
  return {
    decls: used.map(([, name]) => `(local $${name} v128)`).join(' '),
    init: used.map(([x, name]) => `(local.set $${name} (v128.const f32x4 ${lit(x)} ${lit(x)} ${lit(x)} ${lit(x)}))`).join('\n    '),
  };
}

const F32: Ops = {
  width: 4,
  type: 'f32',
  load: (a) => `(f32.load ${a})`,
  store: (a, v) => `(f32.store ${a} ${v})`,
  add: (a, b) => `(f32.add ${a} ${b})`,
  sub: (a, b) => `(f32.sub ${a} ${b})`,
  mul: (a, b) => `(f32.mul ${a} ${b})`,
  div: (a, b) => `(f32.div ${a} ${b})`,
  min: (a, b) => `(f32.min ${a} ${b})`,
  max: (a, b) => `(f32.max ${a} ${b})`,
  c: (x) => `(f32.const ${lit(x)})`,
  inUnit: (x, v) => `(select ${v} (f32.const 0) (i32.and (f32.gt ${x} (f32.const 0)) (f32.lt ${x} (f32.const 1))))`,
};

export const get = (name: string): string => `(local.get $${name})`;
export const set = (name: string, v: string): string => `(local.set $${name} ${v})`;
export const at = (...terms: string[]): string => terms.reduce((acc, t) => `(i32.add ${acc} ${t})`);

/** `c0 + x·(c1 + x·(c2 + …))`. */
function horner(o: Ops, x: string, coeffs: readonly number[]): string {
  let e = o.c(coeffs[coeffs.length - 1]!);
  for (let k = coeffs.length - 2; k >= 0; k--) e = o.add(o.c(coeffs[k]!), o.mul(x, e));
  return e;
}

/** Statements setting local `dst` to tanh(`src`) (uses the temporaries `v` and `x2`). */
export function tanhTo(o: Ops, dst: string, src: string): string {
  return [
    set('v', o.max(o.min(src, o.c(TANH_CLAMP)), o.c(-TANH_CLAMP))),
    set('x2', o.mul(get('v'), get('v'))),
    set(dst, o.div(o.mul(get('v'), horner(o, get('x2'), TANH_P)), horner(o, get('x2'), TANH_Q))),
  ].join('\n');
}

/** Statements setting local `dst` to the recurrent activation of `src`. */
export function gateTo(o: Ops, hard: boolean, dst: string, src: string): string {
  if (hard) return set(dst, o.max(o.min(o.add(o.mul(o.c(0.2), src), o.c(0.5)), o.c(1)), o.c(0)));
  return [tanhTo(o, dst, o.mul(o.c(0.5), src)), set(dst, o.add(o.c(0.5), o.mul(o.c(0.5), get(dst))))].join('\n');
}

/**
 * Forward body for one element group at column byte offset `j` of row `b` (locals `pg`: row start in gate arrays
 * plus j, `ps`: row start in state arrays plus j), first half: the four gate activations and the new cell state.
 *
 * The forward step is two passes over the row (see {@link FWD_STATE}): done in one, each group's work was a single
 * dependency chain of about 150 cycles (gate tanh, then c, then tanh(c)) longer than the out-of-order window could
 * overlap with the next group's, so the step ran at latency, about 9x the backward step's time; split, the gates of
 * consecutive groups and the tanh(c) of consecutive groups overlap.
 */
function forwardBody(o: Ops, hard: boolean): string {
  const gate = (base: string, k: number): string => (k === 0 ? at(get(base), get('pg')) : at(get(base), get('pg'), get(`hb${k}`)));
  const st = (base: string): string => at(get(base), get('ps'));
  return [
    set('zi', o.add(o.load(gate('z', 0)), o.load(gate('r', 0)))),
    set('zf', o.add(o.load(gate('z', 1)), o.load(gate('r', 1)))),
    set('zg', o.add(o.load(gate('z', 2)), o.load(gate('r', 2)))),
    set('zo', o.add(o.load(gate('z', 3)), o.load(gate('r', 3)))),
    gateTo(o, hard, 'gi', get('zi')),
    gateTo(o, hard, 'gf', get('zf')),
    gateTo(o, hard, 'go', get('zo')),
    tanhTo(o, 'gg', get('zg')),
    set('cv', o.add(o.mul(get('gf'), o.load(st('cp'))), o.mul(get('gi'), get('gg')))),
    o.store(gate('a', 0), get('gi')),
    o.store(gate('a', 1), get('gf')),
    o.store(gate('a', 2), get('gg')),
    o.store(gate('a', 3), get('go')),
    o.store(st('c'), get('cv')),
  ].join('\n');
}

/** Second half of the forward step (locals as in {@link forwardBody}): tanh(c), h = o·tanh(c) and the masked h. */
function forwardStateBody(o: Ops): string {
  const st = (base: string): string => at(get(base), get('ps'));
  return [
    set('go', o.load(at(get('a'), get('pg'), get('hb3')))),
    tanhTo(o, 'tv', o.load(st('c'))),
    set('hv', o.mul(get('go'), get('tv'))),
    o.store(st('tc'), get('tv')),
    o.store(st('h'), get('hv')),
    o.store(st('hp'), o.mul(get('hv'), o.load(st('mask')))),
  ].join('\n');
}

/** Name of the internal function running {@link forwardStateBody} over all rows; each forward export ends with it. */
const FWD_STATE = 'fwdState';

/** Backward body for one element group (locals as in {@link forwardBody}; `pj`: j alone, for `dbs`). */
function backwardBody(o: Ops, hard: boolean): string {
  const gate = (base: string, k: number): string => (k === 0 ? at(get(base), get('pg')) : at(get(base), get('pg'), get(`hb${k}`)));
  const st = (base: string): string => at(get(base), get('ps'));
  const bias = (k: number): string => (k === 0 ? at(get('dbs'), get('pj')) : at(get('dbs'), get('pj'), get(`hb${k}`)));
  const one = o.c(1);
  const dAct = (g: string, d: string): string => (hard ? o.inUnit(get(g), o.mul(o.c(0.2), get(d))) : o.mul(o.mul(get(d), get(g)), o.sub(one, get(g))));
  const lines = [
    set('gi', o.load(gate('a', 0))),
    set('gf', o.load(gate('a', 1))),
    set('gg', o.load(gate('a', 2))),
    set('go', o.load(gate('a', 3))),
    set('tv', o.load(st('tc'))),
    set('hv', o.mul(o.load(st('dh')), o.load(st('mask')))),
    set('cv', o.add(o.load(st('dc')), o.mul(o.mul(get('hv'), get('go')), o.sub(one, o.mul(get('tv'), get('tv')))))),
    o.store(st('dc'), o.mul(get('cv'), get('gf'))),
    // dI = dc·g, dF = dc·c_{t-1}, dG = dc·i, dO = dh·tanh(c), each through its activation's derivative.
    set('zi', o.mul(get('cv'), get('gg'))),
    set('zf', o.mul(get('cv'), o.load(st('cp')))),
    set('zg', o.mul(o.mul(get('cv'), get('gi')), o.sub(one, o.mul(get('gg'), get('gg'))))),
    set('zo', o.mul(get('hv'), get('tv'))),
    set('zi', dAct('gi', 'zi')),
    set('zf', dAct('gf', 'zf')),
    set('zo', dAct('go', 'zo')),
  ];
  const names = ['zi', 'zf', 'zg', 'zo'];
  for (let k = 0; k < 4; k++) {
    lines.push(o.store(gate('dz', k), get(names[k]!)));
    lines.push(o.store(bias(k), o.add(o.load(bias(k)), get(names[k]!))));
  }
  return lines.join('\n');
}

/**
 * The column loops of one row: element groups at byte offset `pj` < `hb` (= 4H) four at a time with the v128 body,
 * then one at a time with the f32 body; each iteration sets `pg` = `rg` + pj and `ps` = `rs` + pj first.
 */
function columnLoops(body: (o: Ops) => string): string {
  const colLoop = (o: Ops, label: string): string => `
    (block $${label}_done (loop $${label}
      (br_if $${label}_done (i32.gt_u (i32.add ${get('pj')} (i32.const ${o.width})) ${get('hb')}))
      ${set('pg', at(get('rg'), get('pj')))}
      ${set('ps', at(get('rs'), get('pj')))}
      ${body(o)}
      ${set('pj', at(get('pj'), `(i32.const ${o.width})`))}
      (br $${label})))`;
  return `${colLoop(V128, 'vec')}
      ${colLoop(F32, 'tail')}`;
}

/**
 * A function looping rows b < B and, per row, columns j < H: four at a time with the v128 body, then the rest one at
 * a time with the f32 body. `pg` = b·4·gates·H + j·4 (gate arrays: `gates` = 4 for the LSTM, 3 for the GRU) and
 * `ps` = b·4H + j·4 (states), `pj` = j·4, in bytes; `hb1`, `hb2`, `hb3` are the byte offsets of gates 1 to 3 in a
 * row.
 */
export function rowLoopFunc(name: string, params: string[], body: (o: Ops) => string, epilogue = '', exported = true, gates = 4): string {
  const vLocals = ['zi', 'zf', 'zg', 'zo', 'gi', 'gf', 'gg', 'go', 'cv', 'tv', 'hv', 'v', 'x2'];
  const loops = columnLoops(body);
  const k = constLocals(loops + epilogue);
  return `
  (func ${exported ? `(export "${name}")` : `$${name}`} ${params.map((p) => `(param $${p} i32)`).join(' ')}
    (local $hb i32) (local $hb1 i32) (local $hb2 i32) (local $hb3 i32) (local $b i32)
    (local $rg i32) (local $rs i32) (local $pg i32) (local $ps i32) (local $pj i32)
    ${vLocals.map((n) => `(local $${n} v128)`).join(' ')}
    ${vLocals.map((n) => `(local $s_${n} f32)`).join(' ')}
    ${k.decls}
    ${k.init}
    ${set('hb', `(i32.shl ${get('H')} (i32.const 2))`)}
    ${set('hb1', get('hb'))}
    ${set('hb2', `(i32.shl ${get('hb')} (i32.const 1))`)}
    ${set('hb3', `(i32.add ${get('hb2')} ${get('hb')})`)}
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_u ${get('b')} ${get('B')}))
      ${set('rg', `(i32.mul ${get('b')} ${gates === 4 ? `(i32.shl ${get('hb')} (i32.const 2))` : `(i32.mul ${get('hb')} (i32.const ${gates}))`})`)}
      ${set('rs', `(i32.mul ${get('b')} ${get('hb')})`)}
      ${set('pj', '(i32.const 0)')}
      ${loops}
      ${set('b', `(i32.add ${get('b')} (i32.const 1))`)}
      (br $rows)))
    ${epilogue}
  )`;
}

/** The scalar body uses its own locals (`s_…`): rename the v128 ones in the generated text. */
export function scalarized(body: (o: Ops) => string): (o: Ops) => string {
  return (o) => (o.type === 'v128' ? body(o) : body(o).replace(/\$(zi|zf|zg|zo|gi|gf|gg|go|cv|tv|hv|v|x2)\b/g, '$s_$1'));
}

/**
 * After the rows of a backward step: `dbias += dbs` in f64 (two f64x2 halves per f32x4), and `dbs = 0`. 4H is always
 * a multiple of 4.
 */
const FLUSH_DBIAS = `
    ${set('pj', '(i32.const 0)')}
    (block $flush_done (loop $flush
      (br_if $flush_done (i32.ge_u ${get('pj')} (i32.shl ${get('hb')} (i32.const 2))))
      ${set('v', `(v128.load ${at(get('dbs'), get('pj'))})`)}
      ${set('pg', at(get('dbias'), `(i32.shl ${get('pj')} (i32.const 1))`))}
      (v128.store ${get('pg')} (f64x2.add (v128.load ${get('pg')}) (f64x2.promote_low_f32x4 ${get('v')})))
      (v128.store offset=16 ${get('pg')} (f64x2.add (v128.load offset=16 ${get('pg')})
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${get('v')} ${get('v')}))))
      (v128.store ${at(get('dbs'), get('pj'))} (v128.const i32x4 0 0 0 0))
      ${set('pj', at(get('pj'), '(i32.const 16)'))}
      (br $flush)))`;

const FWD_PARAMS = ['B', 'H', 'z', 'r', 'cp', 'a', 'c', 'tc', 'h', 'hp', 'mask'];
const CALL_FWD_STATE = `(call $${FWD_STATE} ${FWD_PARAMS.map(get).join(' ')})`;
const BWD_PARAMS = ['B', 'H', 'a', 'tc', 'cp', 'dh', 'mask', 'dc', 'dz', 'dbs', 'dbias'];

/** The whole module's text; `more`: further functions to include (the GRU's, `gru-gates-wat.ts`). */
export function lstmGatesWat(more = ''): string {
  return `(module
  (import "env" "mem" (memory 1))
  ${rowLoopFunc(FWD_STATE, FWD_PARAMS, scalarized(forwardStateBody), '', false)}
  ${rowLoopFunc('fwdSigmoid', FWD_PARAMS, scalarized((o) => forwardBody(o, false)), CALL_FWD_STATE)}
  ${rowLoopFunc('fwdHard', FWD_PARAMS, scalarized((o) => forwardBody(o, true)), CALL_FWD_STATE)}
  ${rowLoopFunc('bwdSigmoid', BWD_PARAMS, scalarized((o) => backwardBody(o, false)), FLUSH_DBIAS)}
  ${rowLoopFunc('bwdHard', BWD_PARAMS, scalarized((o) => backwardBody(o, true)), FLUSH_DBIAS)}
  ${more}
)`;
}
