/** Renders a received value for "got …" in messages: strings quoted, containers by kind, long text cut. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

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

/** Path string from path segments: `parameters.batch_size.values[2]`. */
export function joinPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}
