/**
 * WebAssembly text of the GRU's per-timestep gate math (tfjs' GRU, `reset_after: false`, gates z, r, h), added to the
 * gate module of `lstm-gates-wat.ts` (same helpers, same rational tanh, compiled together with `wabt`); hand-written
 * for the same reason as the LSTM's (a long chain of tiny element-wise ops tfjs has no fused kernel for).
 *
 * Exports (byte addresses into `env.mem`; gate arrays `[B, 3H]`, states `[B, H]`, `bias` `[3H]`; `hm` is `h_{t-1}`
 * times the recurrent dropout mask; each in a sigmoid and a hard-sigmoid edition):
 *
 *   gruGates{Sigmoid,Hard} (B, H, z, bias, hm, a, rh)   z, r = σ(z[:, :2H] + bias); a[:, :2H] = z, r; rh = r·hm
 *   gruOut (B, H, z, bias, hm, a, h)                    hh = tanh(z[:, 2H:] + bias); a[:, 2H:] = hh; h = hh + z·(hm - hh)
 *   gruBwdA{Sigmoid,Hard} (B, H, a, hm, dh, dz, dhm)    dz_z = σ'(z)·dh·(hm - hh); dz_h = dh·(1 - z)·(1 - hh²); dz_r = 0;
 *                                                       dhm = dh·z
 *   gruBwdB{Sigmoid,Hard} (B, H, a, hm, drh, dz, dhm)   (drh = d(r·hm), from dz_h·U_hᵀ) dz_r = σ'(r)·drh·hm; dhm += drh·r
 *
 * The callers (`fused-rnn.ts`) run the recurrent products between them and handle padding masks and the bias gradient.
 */
import { at, gateTo, get, rowLoopFunc, scalarized, set, tanhTo, type Ops } from './lstm-gates-wat.js';

/** Loads and stores of gate k (0: z, 1: r, 2: h) and of a state array at the current element group. */
function addr(base: string, k = 0): string {
  return k === 0 ? at(get(base), get('pg')) : at(get(base), get('pg'), get(`hb${k}`));
}
const st = (base: string): string => at(get(base), get('ps'));
const bias = (k: number): string => (k === 0 ? at(get('bias'), get('pj')) : at(get('bias'), get('pj'), get(`hb${k}`)));

function gatesBody(o: Ops, hard: boolean): string {
  return [
    gateTo(o, hard, 'gi', o.add(o.load(addr('z', 0)), o.load(bias(0)))),
    gateTo(o, hard, 'gf', o.add(o.load(addr('z', 1)), o.load(bias(1)))),
    o.store(addr('a', 0), get('gi')),
    o.store(addr('a', 1), get('gf')),
    o.store(st('rh'), o.mul(get('gf'), o.load(st('hm')))),
  ].join('\n');
}

function outBody(o: Ops): string {
  return [
    tanhTo(o, 'gg', o.add(o.load(addr('z', 2)), o.load(bias(2)))),
    o.store(addr('a', 2), get('gg')),
    o.store(st('h'), o.add(get('gg'), o.mul(o.load(addr('a', 0)), o.sub(o.load(st('hm')), get('gg'))))),
  ].join('\n');
}

const dAct = (o: Ops, hard: boolean, g: string, d: string): string =>
  hard ? o.inUnit(get(g), o.mul(o.c(0.2), d)) : o.mul(o.mul(d, get(g)), o.sub(o.c(1), get(g)));

function bwdABody(o: Ops, hard: boolean): string {
  return [
    set('gi', o.load(addr('a', 0))),
    set('gg', o.load(addr('a', 2))),
    set('hv', o.load(st('dh'))),
    o.store(addr('dz', 0), dAct(o, hard, 'gi', o.mul(get('hv'), o.sub(o.load(st('hm')), get('gg'))))),
    o.store(addr('dz', 2), o.mul(o.mul(get('hv'), o.sub(o.c(1), get('gi'))), o.sub(o.c(1), o.mul(get('gg'), get('gg'))))),
    o.store(addr('dz', 1), o.c(0)),
    o.store(st('dhm'), o.mul(get('hv'), get('gi'))),
  ].join('\n');
}

function bwdBBody(o: Ops, hard: boolean): string {
  return [
    set('gf', o.load(addr('a', 1))),
    set('hv', o.load(st('drh'))),
    o.store(addr('dz', 1), dAct(o, hard, 'gf', o.mul(get('hv'), o.load(st('hm'))))),
    o.store(st('dhm'), o.add(o.load(st('dhm')), o.mul(get('hv'), get('gf')))),
  ].join('\n');
}

/** The GRU functions of the gate module (see the module comment). */
export function gruGatesWat(): string {
  // Rows of 3H gates (z, r, h).
  const row = (name: string, params: string[], body: (o: Ops) => string): string => rowLoopFunc(name, params, body, '', true, 3);
  const gates = ['B', 'H', 'z', 'bias', 'hm', 'a', 'rh'];
  const out = ['B', 'H', 'z', 'bias', 'hm', 'a', 'h'];
  const bwdA = ['B', 'H', 'a', 'hm', 'dh', 'dz', 'dhm'];
  const bwdB = ['B', 'H', 'a', 'hm', 'drh', 'dz', 'dhm'];
  return [
    row('gruGatesSigmoid', gates, scalarized((o) => gatesBody(o, false))),
    row('gruGatesHard', gates, scalarized((o) => gatesBody(o, true))),
    row('gruOut', out, scalarized(outBody)),
    row('gruBwdASigmoid', bwdA, scalarized((o) => bwdABody(o, false))),
    row('gruBwdAHard', bwdA, scalarized((o) => bwdABody(o, true))),
    row('gruBwdBSigmoid', bwdB, scalarized((o) => bwdBBody(o, false))),
    row('gruBwdBHard', bwdB, scalarized((o) => bwdBBody(o, true))),
  ].join('\n');
}
