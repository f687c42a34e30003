/**
 * WebAssembly text source of sweepq's own matrix multiply, register-blocked for the fused LSTM's shapes
 * (`[3200x64]x[64x256]` input projection, `[32x64]x[64x256]` and `[32x256]x[256x64]` recurrent steps, and the gradient
 * products over all steps). Like `lstm-gates-wat.ts`, hand-written text that `gemm-wasm.ts` compiles at load time with
 * `wabt`; no binary is committed.
 *
 * Why: tfjs-wasm's XNNPACK build multiplies with separate SIMD multiplies and adds (wasm SIMD has no fused
 * multiply-add), packs a new right-hand operand on every call, and its transposed variants are slow. With relaxed SIMD's
 * `f32x4.relaxed_madd` (a fused multiply-add on x86 with FMA) a 4x8 register tile does twice the arithmetic per
 * instruction, and reading the left operand either row-major or transposed serves every product of the step with no
 * transposes or copies at all.
 *
 * Exports (addresses and strides in bytes, into the imported memory `env.mem`):
 *
 *   gemmNN (M, N, K, a, lda, b, ldb, c, ldc, add)   C[M,N] (+)= A[M,K] · B[K,N]      (A row-major, row stride lda)
 *   gemmTN (M, N, K, a, lda, b, ldb, c, ldc, add)   C[M,N] (+)= Aᵀ · B with A [K,M]  (A row-major [K, M], row stride lda)
 *
 * B and C are row-major with row strides ldb and ldc. N must be a multiple of 4 (the caller checks); any M, K >= 1.
 * With `add` = 1 the product is added to C (a bias, or the input projection the recurrent product joins), with 0 it
 * overwrites C.
 *
 * Overflow: a result that is ±Inf is stored as NaN. With fused multiply-adds an overflowing product added to an
 * opposite infinity stays ±Inf where tfjs' separate multiplies and adds give NaN (Inf - Inf), and the gate math clamps
 * ±Inf pre-activations into saturated, finite gates: a diverged model (say, learning rate 1e38) would train on with
 * finite garbage instead of the NaN loss the training loop stops on. Finite results are unchanged.
 *
 * Blocking: K in chunks of {@link KC} (the B chunk of the step's products, at most 128 x 256 floats, stays in L2; the
 * input-gradient one, 128 x 64, in L1), then tiles of {@link tileRows} rows (smaller ones for the rest) x 8 columns
 * (4 for the rest). A tile keeps its sums in v128 locals across the whole K chunk; each k loads two vectors of B,
 * broadcasts one value of A per row and does two multiply-adds per row.
 */

/** Rows of K per chunk. */
const KC = 128;

/**
 * Rows of the main register tile per edition: 6 x 8 with fused multiply-adds (12 accumulators, 2 vectors of B and a
 * broadcast: 15 of the 16 x64 vector registers), 4 x 8 without (a separate multiply needs a register for its product;
 * 6 rows spilled and ran at half the speed). Measured on the seed shapes: 45-54 and 30-37 GFLOP/s.
 */
function tileRows(relaxed: boolean): number {
  return relaxed ? 6 : 4;
}

/** `a·b + c` on f32x4: fused with relaxed SIMD, a multiply and an add otherwise. */
function madd(relaxed: boolean, a: string, b: string, c: string): string {
  return relaxed ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : `(f32x4.add (f32x4.mul ${a} ${b}) ${c})`;
}

/**
 * A micro-kernel function `$mk_<t>_<mr>_<nv>` (t: `n` = A row-major, `t` = A transposed): `mr` rows x `nv` vectors
 * of 4 columns, over `kn` values of k. Params: pa (A at row i0, column k0), pb (B at row k0, column j0), pc (C at
 * i0, j0), kn, lda, ldb, ldc.
 */
function microKernel(relaxed: boolean, trans: boolean, mr: number, nv: number): string {
  const acc = (r: number, v: number): string => `$c${r}_${v}`;
  const locals: string[] = [];
  for (let r = 0; r < mr; r++) for (let v = 0; v < nv; v++) locals.push(`(local ${acc(r, v)} v128)`);
  for (let v = 0; v < nv; v++) locals.push(`(local $b${v} v128)`);
  locals.push('(local $av v128)');
  // Row pointers of A for the row-major case (the transposed case reads rows r at immediate offsets 4r).
  if (!trans) for (let r = 1; r < mr; r++) locals.push(`(local $pa${r} i32)`);
  const body: string[] = [];
  if (!trans) {
    for (let r = 1; r < mr; r++) body.push(`(local.set $pa${r} (i32.add (local.get $pa) (i32.mul (local.get $lda) (i32.const ${r}))))`);
  }
  // One k: B's row at `pb`, A's values at `pa` (+ `aOff` bytes, an immediate) per row.
  const oneK = (pb: string, pa: string, aOff: number): string[] => {
    const out: string[] = [];
    for (let v = 0; v < nv; v++) out.push(`(local.set $b${v} (v128.load offset=${16 * v} (local.get ${pb})))`);
    for (let r = 0; r < mr; r++) {
      const load = trans
        ? `(v128.load32_splat offset=${4 * r} (local.get ${pa}))`
        : `(v128.load32_splat offset=${aOff} (local.get ${r === 0 ? '$pa' : `$pa${r}`}))`;
      out.push(`(local.set $av ${load})`);
      for (let v = 0; v < nv; v++) out.push(`(local.set ${acc(r, v)} ${madd(relaxed, '(local.get $av)', `(local.get $b${v})`, `(local.get ${acc(r, v)})`)})`);
    }
    return out;
  };
  // With fused multiply-adds, two k per iteration (half the pointer updates and branches per multiply-add), then the
  // odd one; with separate multiplies and adds the unrolled loop ran slower (20-30 against 30-37 GFLOP/s), so one k.
  const u = relaxed ? 2 : 1;
  const pbLast = u === 2 ? '$pb2' : '$pb';
  const paLast = trans && u === 2 ? '$pa2' : '$pa';
  const iter: string[] = [];
  if (u === 2) {
    locals.push('(local $pb2 i32)');
    iter.push('(local.set $pb2 (i32.add (local.get $pb) (local.get $ldb)))');
    if (trans) {
      locals.push('(local $pa2 i32)');
      iter.push('(local.set $pa2 (i32.add (local.get $pa) (local.get $lda)))');
    }
    iter.push(...oneK('$pb', '$pa', 0));
  }
  iter.push(...oneK(pbLast, paLast, 4 * (u - 1)));
  if (trans) {
    iter.push(`(local.set $pa (i32.add (local.get ${paLast}) (local.get $lda)))`);
  } else {
    for (let r = 0; r < mr; r++) iter.push(`(local.set $pa${r || ''} (i32.add (local.get $pa${r || ''}) (i32.const ${4 * u})))`);
  }
  iter.push(`(local.set $pb (i32.add (local.get ${pbLast}) (local.get $ldb)))`);
  iter.push(`(local.set $kn (i32.sub (local.get $kn) (i32.const ${u})))`);
  body.push(`(block $done (loop $k
      (br_if $done (i32.lt_u (local.get $kn) (i32.const ${u})))
      ${iter.join('\n      ')}
      (br $k)))`);
  if (u === 2) body.push(`(if (local.get $kn) (then\n      ${oneK('$pb', '$pa', 0).join('\n      ')}))`);
  locals.push('(local $s v128)');
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nv; v++) {
      const addr = `(local.get $pc)`;
      const sum = `(local.get ${acc(r, v)})`;
      body.push(`(local.set $s (if (result v128) (local.get $add) (then (f32x4.add (v128.load offset=${16 * v} ${addr}) ${sum})) (else ${sum})))`);
      // s + (s - s): ±Inf (an overflow) becomes NaN, finite values stay as they are. See "Overflow" in the file comment.
      body.push(`(v128.store offset=${16 * v} ${addr} (f32x4.add (local.get $s) (f32x4.sub (local.get $s) (local.get $s))))`);
    }
    if (r + 1 < mr) body.push('(local.set $pc (i32.add (local.get $pc) (local.get $ldc)))');
  }
  return `
  (func $mk_${trans ? 't' : 'n'}_${mr}_${nv} (param $pa i32) (param $pb i32) (param $pc i32) (param $kn i32)
      (param $lda i32) (param $ldb i32) (param $ldc i32) (param $add i32)
    ${locals.join(' ')}
    ${body.join('\n    ')})`;
}

/**
 * The driver `gemmNN` / `gemmTN`: K chunks, then row tiles of `rows[0]` rows, then of the smaller sizes for the rest,
 * each over column tiles of 8 (then one of 4). A at (i, k) is `a + i·lda + 4k` (NN) or `a + k·lda + 4i` (TN).
 */
function driver(trans: boolean, rows: readonly number[]): string {
  const t = trans ? 't' : 'n';
  // Byte offset of A at row i0, column k0.
  const aAt = trans
    ? '(i32.add (local.get $a) (i32.add (i32.mul (local.get $k0) (local.get $lda)) (i32.shl (local.get $i0) (i32.const 2))))'
    : '(i32.add (local.get $a) (i32.add (i32.mul (local.get $i0) (local.get $lda)) (i32.shl (local.get $k0) (i32.const 2))))';
  const bAt = '(i32.add (local.get $b) (i32.add (i32.mul (local.get $k0) (local.get $ldb)) (i32.shl (local.get $j0) (i32.const 2))))';
  const cAt = '(i32.add (local.get $c) (i32.add (i32.mul (local.get $i0) (local.get $ldc)) (i32.shl (local.get $j0) (i32.const 2))))';
  const args = `${aAt} ${bAt} ${cAt} (local.get $kn) (local.get $lda) (local.get $ldb) (local.get $ldc) (i32.or (local.get $add) (local.get $k0))`;
  const cols = (mr: number): string => `
        (local.set $j0 (i32.const 0))
        (block $c${mr}_done (loop $c${mr}
          (br_if $c${mr}_done (i32.gt_u (i32.add (local.get $j0) (i32.const 8)) (local.get $N)))
          (call $mk_${t}_${mr}_2 ${args})
          (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
          (br $c${mr})))
        (if (i32.lt_u (local.get $j0) (local.get $N)) (then (call $mk_${t}_${mr}_1 ${args})))`;
  const rowLoops = rows.map(
    (mr) => `
      (block $r${mr}_done (loop $r${mr}
        (br_if $r${mr}_done (i32.gt_u (i32.add (local.get $i0) (i32.const ${mr})) (local.get $M)))
        ${cols(mr)}
        (local.set $i0 (i32.add (local.get $i0) (i32.const ${mr})))
        (br $r${mr})))`,
  );
  return `
  (func (export "gemm${trans ? 'TN' : 'NN'}") (param $M i32) (param $N i32) (param $K i32) (param $a i32) (param $lda i32)
      (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32) (param $add i32)
    (local $k0 i32) (local $kn i32) (local $i0 i32) (local $j0 i32)
    (block $kdone (loop $kblk
      (br_if $kdone (i32.ge_u (local.get $k0) (local.get $K)))
      (local.set $kn (select (i32.const ${KC}) (i32.sub (local.get $K) (local.get $k0))
        (i32.lt_u (i32.const ${KC}) (i32.sub (local.get $K) (local.get $k0)))))
      (local.set $i0 (i32.const 0))
      ${rowLoops.join('')}
      (local.set $k0 (i32.add (local.get $k0) (local.get $kn)))
      (br $kblk)))
  )`;
}

/** The module text: both drivers and their micro-kernels, with fused multiply-adds when `relaxed`. */
export function gemmWat(relaxed: boolean): string {
  const main = tileRows(relaxed);
  // Row tiles: the main one, then 4 and 2 rows where smaller (the tails of M = 32 and 64 are 2 and 4 rows), then 1.
  const rows = [main, ...[4, 2].filter((r) => r < main), 1];
  const parts = ['(module', '  (import "env" "mem" (memory 1))'];
  for (const trans of [false, true]) {
    for (const mr of rows) for (const nv of [2, 1]) parts.push(microKernel(relaxed, trans, mr, nv));
    parts.push(driver(trans, rows));
  }
  parts.push(')');
  return parts.join('\n');
}

/** A module that validates only where relaxed SIMD is enabled (its detection). */
export const RELAXED_PROBE_WAT = `(module (func (param v128 v128 v128) (result v128)
  (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2))))`;
