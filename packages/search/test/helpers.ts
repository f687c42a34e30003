import { readFileSync } from 'node:fs';
import { validateSpec } from '@sweepq/sweep-config';
import type { SweepSpec, TrialParams } from '@sweepq/sweep-config';
import { TpeSampler } from '../src/index.js';
import type { Observation } from '../src/index.js';

/** Branin-Hoo on [-5, 10] x [0, 15] (minimum 0.397887 at three points), read from dropout and recurrent_dropout. */
export function branin(p: TrialParams): number {
  const x1 = -5 + 15 * (p.dropout / 0.99);
  const x2 = 15 * (p.recurrent_dropout / 0.99);
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

export function braninSpec(method: 'bayes' | 'random', seed: number, runCap: number, multivariate?: boolean): SweepSpec {
  return validateSpec({
    method,
    run_cap: runCap,
    seed,
    metric: { name: 'val_loss' },
    parameters: {
      dropout: { distribution: 'uniform', min: 0, max: 0.99 },
      recurrent_dropout: { distribution: 'uniform', min: 0, max: 0.99 },
    },
    ...(method === 'bayes' ? { bayes: { n_startup_trials: 10, ...(multivariate === undefined ? {} : { multivariate }) } } : {}),
  });
}

/**
 * Runs a bayes sweep against `objective` with `inFlight` simulated workers: proposals are made while the other
 * in-flight trials are pending, and trials finish in proposal order.
 */
export function runTpe(spec: SweepSpec, objective: (p: TrialParams) => number | null, inFlight = 1): Observation[] {
  const sampler = new TpeSampler(spec);
  const observations: Observation[] = [];
  const running: TrialParams[] = [];
  let index = 0;
  const total = spec.run_cap ?? 0;
  while (observations.length < total) {
    while (running.length < inFlight && index < total) running.push(sampler.propose(index++, observations, running));
    const done = running.shift() as TrialParams;
    observations.push({ params: done, value: objective(done) });
  }
  return observations;
}

export function best(observations: readonly Observation[], goal: 'maximize' | 'minimize'): number {
  const values = observations.map((o) => o.value).filter((v): v is number => v !== null);
  return goal === 'maximize' ? Math.max(...values) : Math.min(...values);
}

/** A sweep file from @sweepq/sweep-config's test fixtures (the plans pinned here are drawn from the same files). */
export function specFixture(name: string): string {
  return readFileSync(new URL(`../../sweep-config/test/fixtures/${name}`, import.meta.url), 'utf8');
}
