import { readFileSync } from 'node:fs';

/** One row of a saved report's `results`: the fields every table benchmark writes; the others are the benchmark's. */
export type SavedRow = Record<string, unknown> & { engine: string; method: string };

/** A field of a saved output that is not what the benchmark writes; readSaved names the file and where it is. */
class SavedFieldError extends Error {
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`${field}: expected ${expected}, got ${shown(got)}`);
  }
}

function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  const json = JSON.stringify(v);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `fn`'s result; a field it finds wrong is reported under `prefix` (`results[2]` and `hv`: `results[2].hv`). */
function within<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SavedFieldError) throw new SavedFieldError(e.field === '' ? prefix : `${prefix}.${e.field}`, e.expected, e.got);
    throw e;
  }
}

/**
 * Checks of the fields a benchmark reads from a saved output (readSavedRuns' `key` and `row`, readReusedRuns' `run`):
 * each returns the field, or throws an error that is reported with the file, where the field is and what was expected.
 */
export const savedField = {
  string(o: Record<string, unknown>, name: string): string {
    const v = o[name];
    if (typeof v !== 'string') throw new SavedFieldError(name, 'a string', v);
    return v;
  },
  number(o: Record<string, unknown>, name: string): number {
    const v = o[name];
    if (typeof v !== 'number') throw new SavedFieldError(name, 'a number', v);
    return v;
  },
  oneOf<const V extends string>(o: Record<string, unknown>, name: string, values: readonly V[]): V {
    const v = o[name];
    if (!(values as readonly unknown[]).includes(v)) throw new SavedFieldError(name, `one of ${values.join(', ')}`, v);
    return v as V;
  },
  object(o: Record<string, unknown>, name: string): Record<string, unknown> {
    const v = o[name];
    if (!isObject(v)) throw new SavedFieldError(name, 'an object', v);
    return v;
  },
  /** An array of objects, each checked by `item` (fields inside it are reported as `name[i].field`). */
  objects<T>(o: Record<string, unknown>, name: string, item: (x: Record<string, unknown>) => T): T[] {
    const v = o[name];
    if (!Array.isArray(v)) throw new SavedFieldError(name, 'an array of objects', v);
    return v.map((x: unknown, i) =>
      within(`${name}[${i}]`, () => {
        if (!isObject(x)) throw new SavedFieldError('', 'an object', x);
        return item(x);
      }),
    );
  },
  /** `rows` arrays of numbers (one per fraction of the budget, each one value per seed). */
  numberRows(o: Record<string, unknown>, name: string, rows: number): number[][] {
    const v = o[name];
    if (!Array.isArray(v) || v.length !== rows || !v.every((r) => Array.isArray(r) && r.every((x) => typeof x === 'number'))) {
      throw new SavedFieldError(name, `an array of ${rows} arrays of numbers (one per fraction of the budget)`, v);
    }
    return v as number[][];
  },
};

/**
 * Reads the saved `--json` output at `path` (text before its first `{` skipped, e.g. npm's banner) and returns what
 * `read` takes from it. Exits through `fail`, naming `flag` and the file, when it cannot be read or parsed, or when a
 * field `read` checks with {@link savedField} is not what the benchmark writes (where it is and what was expected).
 */
function readSaved<T>(flag: string, path: string, fail: (message: string) => never, read: (saved: Record<string, unknown>) => T): T {
  let saved: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    saved = JSON.parse(text.slice(Math.max(0, text.indexOf('{'))));
  } catch (e) {
    return fail(`${flag}: ${path}: expected the --json output of an earlier run (${(e as Error).message})`);
  }
  try {
    if (!isObject(saved)) throw new SavedFieldError('the file', 'an object', saved);
    return read(saved);
  } catch (e) {
    if (!(e instanceof SavedFieldError)) throw e;
    return fail(`${flag}: ${path}: ${e.field}: expected ${e.expected}, got ${shown(e.got)}; is it the --json output of an earlier run?`);
  }
}

/**
 * `--optuna-results FILE[,FILE…]` of the table benchmarks (bench:search --table, and its --objectives mode): Optuna's
 * side takes minutes per table and is deterministic per seed, so the `--json` output of an earlier run stands in for
 * it. Reads each file, checks that it was run with the settings that decide Optuna's results (`want`: each of those
 * config fields must be equal, and the fractions of the budget too), and returns the Optuna rows of `methods` in each
 * report, by the key `key` gives (a table, or a table and set of objectives); a later file's rows replace an earlier
 * one's for the same key. Exits through `fail` when a file does not exist, is not such an output (naming the field
 * and what was expected), was run with other settings, or has rows for a key but not for every one of `methods`: a
 * comparison without one of Optuna's methods would name Optuna's best among the others only.
 */
export function readSavedRuns<T>(
  text: string,
  opts: {
    want: Record<string, unknown>;
    fractions: readonly number[];
    /** The Optuna methods this run compares (`--optuna-methods`); rows of other methods are left out. */
    methods: readonly string[];
    /** The key of a report with Optuna rows; checks the fields it reads with {@link savedField}. */
    key: (report: Record<string, unknown>) => string;
    /** One Optuna row as the benchmark keeps it; checks the fields it reads with {@link savedField}. */
    row: (row: SavedRow) => T;
    fail: (message: string) => never;
  },
): Map<string, T[]> {
  const { want, fractions, methods, fail } = opts;
  const found = new Map<string, { path: string; rows: T[]; methods: Set<string> }>();
  // The Optuna rows of `methods` in a report, with its key, or undefined when it has none.
  const optunaRows = (report: Record<string, unknown>): { key: string; rows: T[]; methods: Set<string> } | undefined => {
    const optuna = savedField
      .objects(report, 'results', (m) => ({ m, engine: savedField.string(m, 'engine'), method: savedField.string(m, 'method') }))
      .map((x, j) => ({ ...x, j }))
      .filter((x) => x.engine === 'optuna' && methods.includes(x.method));
    if (optuna.length === 0) return undefined;
    const rows = optuna.map(({ m, j }) => within(`results[${j}]`, () => opts.row(m as SavedRow)));
    return { key: opts.key(report), rows, methods: new Set(optuna.map((x) => x.method)) };
  };
  for (const path of text.split(',').filter((f) => f !== '')) {
    readSaved('--optuna-results', path, fail, (saved) => {
      const c = savedField.object(saved, 'config');
      for (const [k, v] of Object.entries(want)) {
        if (c[k] !== v) fail(`--optuna-results: ${path} was run with ${k} ${String(c[k])}; this run has ${String(v)}: run with the same ${Object.keys(want).join(', ')}`);
      }
      if (JSON.stringify(c['fractions']) !== JSON.stringify(fractions)) fail(`--optuna-results: ${path} has results at fractions ${JSON.stringify(c['fractions'])}, expected ${JSON.stringify(fractions)}`);
      for (const got of savedField.objects(saved, 'reports', optunaRows)) if (got !== undefined) found.set(got.key, { path, ...got });
    });
  }
  const lacking = [...found].filter(([, f]) => methods.some((m) => !f.methods.has(m)));
  if (lacking.length > 0) {
    const everywhere = methods.filter((m) => [...found.values()].every((f) => f.methods.has(m)));
    const lines = lacking.map(([k, f]) => `${k} (from ${f.path}): has ${[...f.methods].join(', ')}; lacks ${methods.filter((m) => !f.methods.has(m)).join(', ')}`);
    fail(
      `--optuna-results: the files lack some of the Optuna methods asked for (--optuna-methods ${methods.join(',')}):\n  ${lines.join('\n  ')}\n` +
        `${everywhere.length > 0 ? `run with --optuna-methods ${everywhere.join(',')} (what the files have for every table), ` : ''}or without --optuna-results to run optuna-peer.py for every method`,
    );
  }
  return new Map([...found].map(([k, f]) => [k, f.rows]));
}

/**
 * `--reuse FILE` / `--reuse-random FILE` of bench:search (search-bench.ts): the settings (`config`) and the runs of an
 * earlier `--json` or `--json-out` output, each run as `run` returns it after checking the fields it reads with
 * {@link savedField}. Exits through `fail` (naming `flag`, the file, the field and what was expected) when the file
 * cannot be read or is not such an output.
 */
export function readReusedRuns<R>(flag: string, path: string, fail: (message: string) => never, run: (r: Record<string, unknown>) => R): { config: Record<string, unknown>; runs: R[] } {
  return readSaved(flag, path, fail, (saved) => ({ config: savedField.object(saved, 'config'), runs: savedField.objects(saved, 'runs', run) }));
}
