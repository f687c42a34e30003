import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, METRIC_NAMES, PARAMETER_NAMES, PARAMETER_RULES, type ParameterName } from '@sweepq/sweep-config';
import { PayloadError, parsePayload, trialJobSchema, trialParamsSchema } from '../src/index.js';

// Redis is a trust boundary: a job payload is held to exactly the bounds a spec is, from the one parameter table.
const withParam = (name: ParameterName, value: unknown) => ({ ...DEFAULT_PARAMS, [name]: value });
const accepts = (name: ParameterName, value: unknown) => trialParamsSchema.safeParse(withParam(name, value)).success;

describe('trial payload parameters', () => {
  it('accepts the defaults and refuses unknown or missing keys', () => {
    expect(trialParamsSchema.safeParse(DEFAULT_PARAMS).success).toBe(true);
    expect(trialParamsSchema.safeParse({ ...DEFAULT_PARAMS, layers: 2 }).success).toBe(false);
    const { epochs: _e, ...missing } = DEFAULT_PARAMS;
    expect(trialParamsSchema.safeParse(missing).success).toBe(false);
  });

  it("holds every parameter to the spec's own bounds", () => {
    for (const name of PARAMETER_NAMES) {
      const rule = PARAMETER_RULES[name];
      if (rule.type === 'int') {
        expect(accepts(name, rule.min), `${name} min`).toBe(true);
        expect(accepts(name, rule.max), `${name} max`).toBe(true);
        expect(accepts(name, rule.min - 1), `${name} below min`).toBe(false);
        expect(accepts(name, rule.max + 1), `${name} above max`).toBe(false);
        expect(accepts(name, rule.min + 0.5), `${name} fraction`).toBe(false);
      } else if (rule.type === 'float') {
        expect(accepts(name, rule.min), `${name} at min`).toBe(!rule.minExclusive);
        if (Number.isFinite(rule.max)) expect(accepts(name, rule.max), `${name} at max`).toBe(!rule.maxExclusive);
        expect(accepts(name, Number.NaN), `${name} NaN`).toBe(false);
      } else if (rule.type === 'bool') {
        expect(accepts(name, true), `${name} true`).toBe(true);
        expect(accepts(name, false), `${name} false`).toBe(true);
        for (const v of ['true', 1, 0, null]) expect(accepts(name, v), `${name} ${JSON.stringify(v)}`).toBe(false);
      } else {
        for (const v of rule.values) expect(accepts(name, v)).toBe(true);
        expect(accepts(name, 'adamw')).toBe(false);
      }
    }
  });

  it('takes the architecture parameters: lstm_layers, bidirectional, cell, mask_zero', () => {
    const arch = { ...DEFAULT_PARAMS, lstm_layers: 3, bidirectional: true, cell: 'gru', mask_zero: true };
    expect(trialParamsSchema.parse(arch)).toEqual(arch);
    expect(accepts('cell', 'rnn')).toBe(false);
    expect(accepts('lstm_layers', 5)).toBe(false);
    expect(() => parsePayload('trials', trialParamsSchema, withParam('bidirectional', 'yes'))).toThrow(/bidirectional: expected true or false, got "yes"/);
  });

  it('runs a job queued before the architecture parameters existed as the model it asked for (their defaults)', () => {
    const { lstm_layers: _l, bidirectional: _b, cell: _c, mask_zero: _m, ...before } = { ...DEFAULT_PARAMS, lstm_units: 32 };
    expect(parsePayload('trials', trialParamsSchema, before)).toEqual({ ...before, lstm_layers: 1, bidirectional: false, cell: 'lstm', mask_zero: false });
    // Only parameters added later may be absent.
    const { lstm_units: _u, ...noUnits } = before;
    expect(() => parsePayload('trials', trialParamsSchema, noUnits)).toThrow(/lstm_units/);
  });

  it('refuses an absurd model a spec would refuse, naming the field', () => {
    expect(() => parsePayload('trials', trialParamsSchema, withParam('lstm_units', 1_000_000))).toThrow(PayloadError);
    expect(() => parsePayload('trials', trialParamsSchema, withParam('lstm_units', 1_000_000))).toThrow(/lstm_units: expected a number <= 4096, got 1000000/);
  });
});

describe('trial payload metric', () => {
  it("takes every metric a spec can name, the costs included (a sweep's first objective may be one)", () => {
    const job = (name: string) => ({ sweepId: 's', trialId: 't0000', index: 0, params: DEFAULT_PARAMS, seed: 1, metric: { name, goal: 'minimize' }, dataset: { key: 'k', hash: 'ab'.repeat(8) } });
    for (const name of METRIC_NAMES) expect(trialJobSchema.safeParse(job(name)).success, name).toBe(true);
    expect(trialJobSchema.safeParse({ ...job('model_bytes'), objectives: [] }).success).toBe(false);
  });
});

describe('trial payload dataset', () => {
  const job = (dataset: object) => ({
    sweepId: 's1',
    trialId: 't1',
    index: 0,
    params: DEFAULT_PARAMS,
    seed: 1,
    metric: { name: 'val_accuracy', goal: 'maximize' },
    dataset,
  });
  const base = { key: 'datasets/ab/shards/manifest.json', hash: 'ab'.repeat(32) };

  it("carries the shard manifest's SHA-256, and accepts a job queued before it existed", () => {
    const sha = 'cd'.repeat(32);
    expect(parsePayload('trials', trialJobSchema, job({ ...base, manifestSha256: sha })).dataset.manifestSha256).toBe(sha);
    expect(parsePayload('trials', trialJobSchema, job(base)).dataset).toEqual(base);
  });

  it('refuses a manifest hash that is not a SHA-256, naming the field', () => {
    expect(() => parsePayload('trials', trialJobSchema, job({ ...base, manifestSha256: 'abc' }))).toThrow(/manifestSha256: expected the 64 hex digits of a SHA-256/);
  });
});
