import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSavedRuns } from '../bench/saved-runs.js';

interface Report {
  file: string;
  results: Array<{ engine: string; method: string; value: number }>;
}

const dir = mkdtempSync(join(tmpdir(), 'sweepq-saved-runs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function saved(name: string, config: Record<string, unknown>, reports: Report[]): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ config, reports }));
  return path;
}

const fractions = [0.25, 0.5, 1];
const config = { seeds: 100, firstSeed: 1, inFlight: 4, fractions };
const fail = (message: string): never => {
  throw new Error(message);
};
const read = (text: string, want: Record<string, unknown> = { seeds: 100, firstSeed: 1, inFlight: 4 }): Map<string, Report['results']> =>
  readSavedRuns<Report, Report['results'][number]>(text, {
    want,
    fractions,
    fail,
    pick: (r) => ({ key: r.file, rows: r.results.filter((m) => m.engine === 'optuna') }),
  });

describe('readSavedRuns (--optuna-results)', () => {
  const a = saved('a.json', config, [
    { file: 'spam', results: [{ engine: 'sweepq', method: 'tpe', value: 1 }, { engine: 'optuna', method: 'tpe', value: 2 }] },
    { file: 'topics', results: [{ engine: 'sweepq', method: 'tpe', value: 3 }] },
  ]);
  const b = saved('b.json', config, [{ file: 'topics', results: [{ engine: 'optuna', method: 'random', value: 4 }] }]);

  it("returns each report's optuna rows by key, across files, and nothing for a report without any", () => {
    expect([...read(a)]).toEqual([['spam', [{ engine: 'optuna', method: 'tpe', value: 2 }]]]);
    expect(read(`${a},${b}`).get('topics')).toEqual([{ engine: 'optuna', method: 'random', value: 4 }]);
  });

  it('refuses a file run with other settings, naming the setting', () => {
    expect(() => read(a, { seeds: 100, firstSeed: 101, inFlight: 4 })).toThrow(/was run with firstSeed 1; this run has 101/);
    const other = saved('c.json', { ...config, fractions: [0.5, 1] }, []);
    expect(() => read(other)).toThrow(/fractions \[0\.5,1\]/);
  });

  it('refuses a missing file or one that is not a --json output', () => {
    expect(() => read(join(dir, 'missing.json'))).toThrow(/missing\.json: expected the --json output/);
    writeFileSync(join(dir, 'text.json'), '{"hello": 1}');
    expect(() => read(join(dir, 'text.json'))).toThrow(/an object with config and reports/);
  });
});
