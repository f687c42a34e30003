import { describe, expect, it } from 'vitest';
import type { SpecError} from '../src/index.js';
import { DEFAULT_PARAMS, outsideSpace, parseSpec } from '../src/index.js';

const spec = (extra: string[]) =>
  parseSpec(['method: bayes', 'run_cap: 10', ...extra, 'parameters:', '  learning_rate: {distribution: log_uniform, min: -6.9, max: -2.3}', '  lstm_units: {values: [16, 32]}', '  dropout: {min: 0.0, max: 0.5}'].join('\n'));

describe('prior_sweeps', () => {
  it('takes sweep ids with method bayes and drops duplicates', () => {
    expect(spec(['prior_sweeps: [spam-a-1, spam-b-2, spam-a-1]']).prior_sweeps).toEqual(['spam-a-1', 'spam-b-2']);
  });
  it('refuses other methods and malformed ids, naming the field', () => {
    const err = (text: string) => {
      try {
        parseSpec(text);
      } catch (e) {
        return (e as SpecError).message;
      }
      return '';
    };
    expect(err('method: random\nrun_cap: 3\nprior_sweeps: [a-1]\nparameters:\n  lstm_units: {values: [8, 16]}')).toMatch(/prior_sweeps: warm-starts the bayes sampler from earlier sweeps, but method is random/);
    expect(err('method: bayes\nrun_cap: 3\nprior_sweeps: [Bad_Id]\nparameters:\n  lstm_units: {values: [8, 16]}')).toMatch(/prior_sweeps\[0\]: expected a sweep id/);
  });
});

describe('outsideSpace', () => {
  const s = spec([]);
  const trial = { ...DEFAULT_PARAMS, learning_rate: 0.01, lstm_units: 16, dropout: 0.2 };
  it('finds a trial inside the space (exponent bounds of log_uniform included)', () => {
    expect(outsideSpace(s, trial)).toBeUndefined();
    expect(outsideSpace(s, { ...trial, learning_rate: Math.exp(-6.9) })).toBeUndefined();
  });
  it('names the first parameter this sweep could not have produced', () => {
    expect(outsideSpace(s, { ...trial, lstm_units: 64 })).toBe('lstm_units');
    expect(outsideSpace(s, { ...trial, learning_rate: 0.5 })).toBe('learning_rate');
    expect(outsideSpace(s, { ...trial, dropout: 0.7 })).toBe('dropout');
    // A parameter this sweep does not vary must be at its default.
    expect(outsideSpace(s, { ...trial, epochs: 9 })).toBe('epochs');
  });
});
