/** Per-class precision, recall and F1 on a held-out split. */
export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** How a trained model did on held-out data (`confusion[actual][predicted]`). */
export interface Evaluation {
  split: 'test' | 'validation';
  classes: string[];
  confusion: number[][];
  accuracy: number;
  perClass: ClassMetrics[];
  /** Probabilities the worker computed for the first few held-out examples (index into the split). */
  samples: { index: number; label: number; probabilities: number[] }[];
}

/** Count `confusion[actual][predicted]` from labels and predicted class ids. */
export function confusionMatrix(actual: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number): number[][] {
  if (actual.length !== predicted.length) {
    throw new Error(`confusionMatrix: ${actual.length} labels but ${predicted.length} predictions`);
  }
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const p = predicted[i]!;
    if (a < 0 || a >= numClasses || p < 0 || p >= numClasses) {
      throw new Error(`confusionMatrix: class id out of range at ${i} (actual ${a}, predicted ${p}, ${numClasses} classes)`);
    }
    m[a]![p]! += 1;
  }
  return m;
}

/**
 * Precision, recall and F1 per class (scikit-learn's definitions; 0 where the denominator is 0)
 * and overall accuracy.
 */
export function classificationReport(confusion: number[][], classes: string[]): { accuracy: number; perClass: ClassMetrics[] } {
  const k = classes.length;
  let correct = 0;
  let total = 0;
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < k; c++) {
    const row = confusion[c] ?? [];
    const tp = row[c] ?? 0;
    const support = row.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let r = 0; r < k; r++) predicted += confusion[r]?.[c] ?? 0;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ label: classes[c]!, precision, recall, f1, support });
    correct += tp;
    total += support;
  }
  return { accuracy: total > 0 ? correct / total : 0, perClass };
}

/** Index of the largest value in each row of a row-major [n, k] array. */
export function argmaxRows(probs: ArrayLike<number>, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (probs[i * k + j]! > probs[i * k + best]!) best = j;
    out[i] = best;
  }
  return out;
}
