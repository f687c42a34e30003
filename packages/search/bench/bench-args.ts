import { existsSync } from 'node:fs';

/**
 * Argument checks the table benchmarks share (bench:search --table, and its --objectives mode): each prints the
 * problem and the command's usage and exits with status 2.
 */
export function benchArgs(usage: string): {
  fail: (message: string) => never;
  int: (name: string, v: string | undefined) => number;
  list: <T extends string>(name: string, v: string | undefined, allowed: readonly T[]) => T[];
  oneOf: <T extends string>(name: string, v: string | undefined, allowed: readonly T[]) => T;
  tableFiles: (table: string | undefined) => string[];
} {
  const fail = (message: string): never => {
    console.error(`${message}\n${usage}`);
    process.exit(2);
  };
  const int = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) fail(`--${name}: expected an integer >= 1, got ${JSON.stringify(v)}`);
    return n;
  };
  const list = <T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T[] => {
    const xs = (v ?? '').split(',').filter((x) => x !== '');
    for (const x of xs) if (!(allowed as readonly string[]).includes(x)) fail(`--${name}: expected a comma-separated list of ${allowed.join(', ')}; got ${JSON.stringify(x)}`);
    return xs as T[];
  };
  const oneOf = <T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T =>
    (allowed as readonly (string | undefined)[]).includes(v) ? (v as T) : fail(`--${name}: expected ${allowed.join(' or ')}, got ${JSON.stringify(v)}`);
  const tableFiles = (table: string | undefined): string[] => {
    if (table === undefined) fail('--table: expected one or more table files (comma-separated)');
    const files = (table as string).split(',').filter((f) => f !== '');
    for (const f of files) if (!existsSync(f)) fail(`--table: ${f} does not exist; make it with npm run bench:table`);
    return files;
  };
  return { fail, int, list, oneOf, tableFiles };
}
