import { readFileSync } from 'node:fs';

/** The part of a table benchmark's `--json` output that `--optuna-results` reads. */
export interface SavedRun<R> {
  config: Record<string, unknown>;
  reports: R[];
}

/**
 * `--optuna-results FILE[,FILE…]` of the table benchmarks (bench:search --table, and its --objectives mode): Optuna's
 * side takes minutes per table and is deterministic per seed, so the `--json` output of an earlier run stands in for
 * it. Reads each file, checks that it was run with the settings that decide Optuna's results (`want`: each of those
 * config fields must be equal, and the fractions of the budget too), and returns the Optuna rows `pick` finds in each
 * report, by the key `pick` gives (a table, or a table and set of objectives); a later file's rows replace an
 * earlier one's for the same key. Exits through `fail` when a file does not exist, is not such an output, or was run
 * with other settings.
 */
export function readSavedRuns<R, T>(
  text: string,
  opts: {
    want: Record<string, unknown>;
    fractions: readonly number[];
    /** The report's key and its Optuna rows, or undefined when it has none. */
    pick: (report: R) => { key: string; rows: T[] } | undefined;
    fail: (message: string) => never;
  },
): Map<string, T[]> {
  const { want, fractions, pick, fail } = opts;
  const found = new Map<string, T[]>();
  for (const path of text.split(',').filter((f) => f !== '')) {
    let saved: SavedRun<R>;
    try {
      saved = JSON.parse(readFileSync(path, 'utf8')) as SavedRun<R>;
    } catch (e) {
      return fail(`--optuna-results: ${path}: expected the --json output of an earlier run (${(e as Error).message})`);
    }
    const c = saved?.config;
    if (c === undefined || c === null || typeof c !== 'object' || !Array.isArray(saved.reports)) return fail(`--optuna-results: ${path}: expected the --json output of an earlier run (an object with config and reports)`);
    for (const [k, v] of Object.entries(want)) {
      if (c[k] !== v) fail(`--optuna-results: ${path} was run with ${k} ${String(c[k])}; this run has ${String(v)}: run with the same ${Object.keys(want).join(', ')}`);
    }
    if (JSON.stringify(c['fractions']) !== JSON.stringify(fractions)) fail(`--optuna-results: ${path} has results at fractions ${JSON.stringify(c['fractions'])}, expected ${JSON.stringify(fractions)}`);
    for (const r of saved.reports) {
      const got = pick(r);
      if (got !== undefined && got.rows.length > 0) found.set(got.key, got.rows);
    }
  }
  return found;
}
