/** Flag checks shared by the benchmark scripts: a bad value prints what was expected and exits 2 (usage error). */

/** `--name`'s value as an integer >= 1. */
export function positiveInt(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name}: expected an integer >= 1, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
}

/** `--name`'s value, one of `allowed`. */
export function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v ?? '')) {
    console.error(`--${name}: expected one of ${allowed.join(', ')}; got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return v as T;
}
