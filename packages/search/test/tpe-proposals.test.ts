import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { PARAMETER_NAMES } from '@sweepq/sweep-config';
import { TPE_SCENARIOS } from './tpe-scenarios.js';

// Recorded from the TpeSampler before it shared its estimators, start-up, de-duplication and pending handling with the
// multi-objective sampler (fixtures/record-tpe-proposals.ts): single-objective specs keep their plans per seed.
const fixture = JSON.parse(readFileSync(new URL('./fixtures/tpe-proposals.json', import.meta.url), 'utf8')) as { names: string[]; scenarios: Record<string, unknown[][]> };

describe('single-objective TPE proposals are those recorded before the multi-objective sampler', () => {
  test('the fixture covers every scenario, in PARAMETER_NAMES order', () => {
    expect(fixture.names).toEqual(PARAMETER_NAMES);
    expect(Object.keys(fixture.scenarios).sort()).toEqual(Object.keys(TPE_SCENARIOS).sort());
  });

  test.each(Object.keys(TPE_SCENARIOS))('%s', (name) => {
    const proposals = (TPE_SCENARIOS[name] as () => Record<string, unknown>[])().map((p) => PARAMETER_NAMES.map((n) => p[n]));
    expect(proposals).toEqual(fixture.scenarios[name]);
  });
});
