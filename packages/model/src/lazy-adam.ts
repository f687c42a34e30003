import * as tf from '@tensorflow/tfjs';
import { wasmAdam, type AdamConstants, type WasmAdam } from '@sweepq/kernels';

/** The fields of tfjs' `AdamOptimizer` this subclass reads (private or protected in the typings, plain JS fields). */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  incrementIterations(): void;
}

/**
 * Key of the optimizer config (value `'lazy'`) that marks a saved model's Adam as {@link LazyAdamOptimizer} for its
 * embeddings; stock `Adam.fromConfig` ignores it. Variable names are not saved (they are renumbered on load).
 */
export const LAZY_CONFIG_KEY = 'sweepqEmbeddingOptimizer';

/**
 * Adam whose updates of selected variables (the embedding tables) are lazy, like TensorFlow's `LazyAdamOptimizer`:
 * only the rows the batch touched — the rows of the gradient that are not all zero — get their moments and weights
 * updated; every other row keeps its weights and moments unchanged. Touched rows get exactly the arithmetic of
 * dense Adam (same tfjs ops in the same order, so the same float32 results); dense Adam would in addition decay the
 * moments of the untouched rows and keep moving them by their stale momentum.
 *
 * Why: with a 10,000-word vocabulary a batch touches a few thousand rows of the embedding, but dense Adam runs about
 * a dozen element-wise ops over the whole 640k-weight table every step (7-8 ms on wasm, about 40% of a cpu step).
 *
 * A drop-in `AdamOptimizer`: same class name (`Adam`) and config (plus {@link LAZY_CONFIG_KEY}, which stock tfjs
 * ignores), same slots in the same order for `getWeights`/`setWeights` (so checkpoints are interchangeable with
 * dense Adam's), same handling of all other variables. A row with an exactly zero gradient counts as untouched.
 *
 * On the wasm backend (pinned tfjs version, fast paths on) every variable's update is one pass of a wasm
 * SIMD kernel over the touched rows (see `adam-wasm.ts`), bit-identical to the tfjs ops, which remain the path
 * everywhere else.
 */
export class LazyAdamOptimizer extends tf.AdamOptimizer {
  private readonly lazy: Set<string>;

  /**
   * A real prototype check: tfjs' `Optimizer` makes `instanceof` true for anything with the optimizer methods, which
   * subclasses inherit.
   */
  static override [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && Object.prototype.isPrototypeOf.call(LazyAdamOptimizer.prototype, x);
  }

  /**
   * @param lazyVariables names (`tf.Variable.name`) of the variables to update lazily by rows (first axis)
   */
  constructor(learningRate: number, beta1: number, beta2: number, epsilon: number | null, lazyVariables: Iterable<string>) {
    super(learningRate, beta1, beta2, epsilon ?? undefined);
    this.lazy = new Set(lazyVariables);
  }

  /** Names of the variables updated lazily. */
  get lazyVariables(): string[] {
    return [...this.lazy];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), [LAZY_CONFIG_KEY]: 'lazy' };
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const self = this as unknown as AdamInternals;
    const varNames = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const gradientOf = (name: string, i: number): tf.Tensor | undefined =>
      Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
    const fast = wasmAdam();
    if (fast != null && this.applyInPlace(fast, varNames, gradientOf)) return;
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(1, self.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, self.accBeta2);
      varNames.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        this.ensureMoments(i, name, value);
        const gradient = gradientOf(name, i);
        if (gradient == null) return;
        const firstMoment = self.accumulatedFirstMoment[i]!.variable;
        const secondMoment = self.accumulatedSecondMoment[i]!.variable;
        // Dense Adam, op for op as tfjs' AdamOptimizer, on the given rows (`rows` null: all of them).
        const adam = (g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, w: tf.Tensor): { m: tf.Tensor; v: tf.Tensor; w: tf.Tensor } => {
          const newM = tf.add(tf.mul(m, self.beta1), tf.mul(g, 1 - self.beta1));
          const newV = tf.add(tf.mul(v, self.beta2), tf.mul(tf.square(g), 1 - self.beta2));
          const bcM = tf.div(newM, oneMinusAccBeta1);
          const bcV = tf.div(newV, oneMinusAccBeta2);
          const newW = tf.add(tf.mul(tf.div(bcM, tf.add(tf.sqrt(bcV), self.epsilon)), -self.learningRate), w);
          return { m: newM, v: newV, w: newW };
        };
        const rows = this.lazy.has(name) && value.rank >= 1 ? touchedRows(gradient) : null;
        if (rows == null || rows.length === value.shape[0]) {
          const r = adam(gradient, firstMoment, secondMoment, value);
          firstMoment.assign(r.m);
          secondMoment.assign(r.v);
          value.assign(r.w);
          return;
        }
        if (rows.length === 0) return;
        const idx = tf.tensor1d(rows, 'int32');
        const r = adam(tf.gather(gradient, idx), tf.gather(firstMoment, idx), tf.gather(secondMoment, idx), tf.gather(value, idx));
        const at = tf.reshape(idx, [rows.length, 1]);
        firstMoment.assign(tf.tensorScatterUpdate(firstMoment, at, r.m));
        secondMoment.assign(tf.tensorScatterUpdate(secondMoment, at, r.v));
        value.assign(tf.tensorScatterUpdate(value, at, r.w));
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
  }

  /** Create variable i's first and second moment slots (zeros, as tfjs' Adam names them) if they do not exist yet. */
  private ensureMoments(i: number, name: string, value: tf.Variable): void {
    const self = this as unknown as AdamInternals;
    if (self.accumulatedFirstMoment[i] == null) {
      self.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
    }
    if (self.accumulatedSecondMoment[i] == null) {
      self.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
    }
  }

  /**
   * The update of {@link applyGradients} with the wasm kernels: per variable one scan for the touched rows (lazy
   * variables) and one pass over them (over everything for the other variables). The moments are updated in place
   * unless another tensor shares their memory; the weight is updated in a copy (one memcpy) that is then assigned.
   *
   * @returns false, having changed nothing, when a variable or gradient is not float32 or shapes differ.
   */
  private applyInPlace(fast: WasmAdam, varNames: string[], gradientOf: (name: string, i: number) => tf.Tensor | undefined): boolean {
    const self = this as unknown as AdamInternals;
    for (let i = 0; i < varNames.length; i++) {
      const value = tf.engine().registeredVariables[varNames[i]!];
      const g = gradientOf(varNames[i]!, i);
      if (value == null || value.dtype !== 'float32' || (g != null && (g.dtype !== 'float32' || g.size !== value.size))) return false;
    }
    const f = Math.fround;
    const k: AdamConstants = {
      beta1: f(self.beta1),
      oneMinusBeta1: f(1 - self.beta1),
      beta2: f(self.beta2),
      oneMinusBeta2: f(1 - self.beta2),
      oneMinusAccBeta1: f(1 - self.accBeta1.dataSync()[0]!),
      oneMinusAccBeta2: f(1 - self.accBeta2.dataSync()[0]!),
      epsilon: f(self.epsilon),
      negLearningRate: f(-self.learningRate),
    };
    varNames.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name]!;
      this.ensureMoments(i, name, value);
      const g = gradientOf(name, i);
      if (g == null) return;
      // The touched rows of a lazy variable (as in touchedRows: not all zero, NaN counts as non-zero).
      let rows: { list: tf.Tensor; count: number; width: number } | null = null;
      if (this.lazy.has(name) && value.rank >= 1) {
        const n = value.shape[0]!;
        const width = n === 0 ? 0 : value.size / n;
        const list = tf.zeros([n], 'int32');
        rows = { list, count: fast.touchedRows(g, n, width, list), width };
        if (rows.count === 0) {
          list.dispose();
          return;
        }
      }
      const vars = [self.accumulatedFirstMoment[i]!.variable, self.accumulatedSecondMoment[i]!.variable, value];
      // The weight itself always goes to a fresh copy: tfjs-wasm caches matmul operands packed per tensor id
      // (XNNPACK), so a weight changed in place would keep being multiplied with its old values.
      const targets: tf.Tensor[] = vars.map((t) => (t !== value && fast.writable(t) ? t : tf.clone(t)));
      const [m, v, w] = targets as [tf.Tensor, tf.Tensor, tf.Tensor];
      if (rows == null) fast.update(g, m, v, w, k);
      else {
        fast.updateRows(g, m, v, w, rows.list, rows.count, rows.width, k);
        rows.list.dispose();
      }
      targets.forEach((t, j) => {
        if (t === vars[j]) return;
        vars[j]!.assign(t);
        t.dispose();
      });
    });
    tf.tidy(() => {
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
    return true;
  }
}

/** Indices of the rows (first axis) of `g` that are not all zero (NaN counts as non-zero), ascending. */
function touchedRows(g: tf.Tensor): Int32Array {
  const n = g.shape[0] ?? 0;
  const rowMax = tf.tidy(() => tf.max(tf.abs(tf.reshape(g, [n, -1])), 1));
  const m = rowMax.dataSync();
  rowMax.dispose();
  let count = 0;
  for (let i = 0; i < n; i++) if (m[i] !== 0) count++;
  const out = new Int32Array(count);
  let k = 0;
  for (let i = 0; i < n; i++) if (m[i] !== 0) out[k++] = i;
  return out;
}
