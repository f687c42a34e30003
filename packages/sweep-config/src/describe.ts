// Shared with every other package that reports a bad value (env, job payloads, records in the bucket).
export { describeValue } from '@sweepq/runtime/zod-issues';

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * Closest allowed name to a misspelt one, or undefined when nothing is close. `aliases` maps names people
 * carry over from elsewhere (Keras argument names, abbreviations) to the allowed name.
 */
export function suggestName(input: string, allowed: readonly string[], aliases: Readonly<Record<string, string>> = {}): string | undefined {
  const normal = input.trim().toLowerCase().replace(/[-\s]+/g, '_');
  if (allowed.includes(normal)) return normal;
  const alias = aliases[normal];
  if (alias !== undefined) return alias;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of allowed) {
    const d = levenshtein(normal, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3))) return best;
  // "units" -> "lstm_units": a unique allowed name that contains what was typed.
  const containing = allowed.filter((name) => normal.length >= 3 && name.includes(normal));
  return containing.length === 1 ? containing[0] : undefined;
}

/** "unknown key; allowed: a, b, c — did you mean b?" */
export function unknownKeyMessage(kind: string, key: string, allowed: readonly string[], aliases?: Readonly<Record<string, string>>): string {
  const suggestion = suggestName(key, allowed, aliases);
  const hint = suggestion === undefined ? '' : ` Did you mean ${suggestion}?`;
  return `unknown ${kind} ${JSON.stringify(key)}; allowed: ${allowed.join(', ')}.${hint}`;
}
