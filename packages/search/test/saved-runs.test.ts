import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readReusedRuns, readSavedRuns, savedField } from '../bench/saved-runs.js';

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
const read = (text: string, want: Record<string, unknown> = { seeds: 100, firstSeed: 1, inFlight: 4 }, methods: readonly string[] = ['tpe']): Map<string, Report['results']> =>
  readSavedRuns<Report['results'][number]>(text, {
    want,
    fractions,
    methods,
    fail,
    key: (r) => savedField.string(r, 'file'),
    row: (m) => ({ engine: m.engine, method: m.method, value: savedField.number(m, 'value') }),
  });

describe('readSavedRuns (--optuna-results)', () => {
  const a = saved('a.json', config, [
    { file: 'spam', results: [{ engine: 'sweepq', method: 'tpe', value: 1 }, { engine: 'optuna', method: 'tpe', value: 2 }] },
    { file: 'topics', results: [{ engine: 'sweepq', method: 'tpe', value: 3 }] },
  ]);
  const b = saved('b.json', config, [{ file: 'topics', results: [{ engine: 'optuna', method: 'random', value: 4 }] }]);

  it("returns each report's optuna rows of the methods asked for by key, across files, and nothing for a report without any", () => {
    expect([...read(a)]).toEqual([['spam', [{ engine: 'optuna', method: 'tpe', value: 2 }]]]);
    expect(read(b, undefined, ['random']).get('topics')).toEqual([{ engine: 'optuna', method: 'random', value: 4 }]);
    const both = saved('both.json', config, [{ file: 'spam', results: [{ engine: 'optuna', method: 'tpe', value: 2 }, { engine: 'optuna', method: 'random', value: 5 }] }]);
    expect(read(`${both},${b}`, undefined, ['random']).get('spam')).toEqual([{ engine: 'optuna', method: 'random', value: 5 }]);
  });

  it('refuses files that lack a method asked for, naming per key what they have and lack', () => {
    // a has spam's tpe but not its random; b has topics' random but not its tpe.
    const message = (() => {
      try {
        read(`${a},${b}`, undefined, ['tpe', 'random']);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    })();
    expect(message).toContain(`spam (from ${a}): has tpe; lacks random`);
    expect(message).toContain(`topics (from ${b}): has random; lacks tpe`);
    expect(message).toContain('--optuna-methods tpe,random');
    expect(message).not.toContain('what the files have for every table');
    expect(() => read(a, undefined, ['tpe', 'random'])).toThrow(/run with --optuna-methods tpe \(what the files have for every table\)/);
  });

  it('refuses a file run with other settings, naming the setting', () => {
    expect(() => read(a, { seeds: 100, firstSeed: 101, inFlight: 4 })).toThrow(/was run with firstSeed 1; this run has 101/);
    const other = saved('c.json', { ...config, fractions: [0.5, 1] }, []);
    expect(() => read(other)).toThrow(/fractions \[0\.5,1\]/);
  });

  it('refuses a missing file or one that is not a --json output', () => {
    expect(() => read(join(dir, 'missing.json'))).toThrow(/missing\.json: expected the --json output/);
    writeFileSync(join(dir, 'text.json'), '{"hello": 1}');
    expect(() => read(join(dir, 'text.json'))).toThrow(/text\.json: config: expected an object, got nothing/);
  });

  it('refuses a report or row without the fields it reads, naming the file, the field and what was expected', () => {
    const noResults = join(dir, 'no-results.json');
    writeFileSync(noResults, JSON.stringify({ config, reports: [{ file: 'spam' }] }));
    expect(() => read(noResults)).toThrow(/no-results\.json: reports\[0\]\.results: expected an array of objects, got nothing/);
    const noEngine = saved('no-engine.json', config, [{ file: 'spam', results: [{ method: 'tpe', value: 1 } as unknown as Report['results'][number]] }]);
    expect(() => read(noEngine)).toThrow(/no-engine\.json: reports\[0\]\.results\[0\]\.engine: expected a string, got nothing/);
    const noValue = saved('no-value.json', config, [{ file: 'spam', results: [{ engine: 'sweepq', method: 'tpe', value: 1 }, { engine: 'optuna', method: 'tpe' } as Report['results'][number]] }]);
    expect(() => read(noValue)).toThrow(/no-value\.json: reports\[0\]\.results\[1\]\.value: expected a number, got nothing/);
    const noFile = saved('no-file.json', config, [{ results: [{ engine: 'optuna', method: 'tpe', value: 1 }] } as unknown as Report]);
    expect(() => read(noFile)).toThrow(/no-file\.json: reports\[0\]\.file: expected a string, got nothing/);
    const notReport = join(dir, 'not-report.json');
    writeFileSync(notReport, JSON.stringify({ config, reports: [7] }));
    expect(() => read(notReport)).toThrow(/not-report\.json: reports\[0\]: expected an object, got 7/);
  });
});

describe('readReusedRuns (--reuse)', () => {
  const run = (r: Record<string, unknown>): { method: string; seed: number } => ({ method: savedField.string(r, 'method'), seed: savedField.number(r, 'seed') });
  const reuse = (path: string): { config: Record<string, unknown>; runs: Array<{ method: string; seed: number }> } => readReusedRuns('--reuse', path, fail, run);

  it("returns the config and the runs, after npm's banner", () => {
    const path = join(dir, 'reuse.json');
    writeFileSync(path, `\n> sweepq@0.1.0 bench:search\n\n${JSON.stringify({ config: { runCap: 20 }, runs: [{ method: 'random', seed: 1, ends: [] }] })}`);
    expect(reuse(path)).toEqual({ config: { runCap: 20 }, runs: [{ method: 'random', seed: 1 }] });
  });

  it('refuses a file without runs, or a run without a field it reads, naming the file, the field and what was expected', () => {
    expect(() => reuse(join(dir, 'missing.json'))).toThrow(/--reuse: .*missing\.json: expected the --json output of an earlier run/);
    const noRuns = join(dir, 'no-runs.json');
    writeFileSync(noRuns, JSON.stringify({ config: { runCap: 20 }, results: [] }));
    expect(() => reuse(noRuns)).toThrow(/--reuse: .*no-runs\.json: runs: expected an array of objects, got nothing/);
    const noSeed = join(dir, 'no-seed.json');
    writeFileSync(noSeed, JSON.stringify({ config: { runCap: 20 }, runs: [{ method: 'random', seed: 1 }, { method: 'bayes' }] }));
    expect(() => reuse(noSeed)).toThrow(/--reuse: .*no-seed\.json: runs\[1\]\.seed: expected a number, got nothing/);
  });
});
