/**
 * Single-objective TPE scenarios whose proposals are pinned in fixtures/tpe-proposals.json (recorded by
 * fixtures/record-tpe-proposals.ts from the TpeSampler before the multi-objective sampler shared its parts). A
 * single-objective spec must keep proposing exactly these configurations for these seeds.
 */
import { validateSpec } from '@sweepq/sweep-config';
import type { SweepSpec, TrialParams } from '@sweepq/sweep-config';
import { TpeSampler } from '../src/index.js';
import type { Observation, TpeSamplerOptions } from '../src/index.js';

type Objective = (p: TrialParams, index: number) => Omit<Observation, 'params'>;

/**
 * A sweep with `inFlight` simulated workers; trial k finishes k-th (proposal order), the others pending. Returns
 * every proposal in order.
 */
function sweep(spec: SweepSpec, objective: Objective, inFlight: number, opts: TpeSamplerOptions = {}, prior: readonly Observation[] = []): TrialParams[] {
  const sampler = new TpeSampler(spec, opts);
  const observations: Observation[] = [...prior];
  const running: TrialParams[] = [];
  const proposals: TrialParams[] = [];
  const total = spec.run_cap ?? 0;
  let index = 0;
  while (index < total || running.length > 0) {
    while (running.length < inFlight && index < total) {
      const p = sampler.propose(index++, observations, running);
      running.push(p);
      proposals.push(p);
    }
    const done = running.shift() as TrialParams;
    observations.push({ params: done, ...objective(done, observations.length) });
  }
  return proposals;
}

const mixedParameters = {
  learning_rate: { distribution: 'log_uniform_values', min: 1e-4, max: 1e-1 },
  optimizer: { values: ['adam', 'sgd', 'rmsprop'] },
  embedding_dim: { distribution: 'q_log_uniform_values', min: 8, max: 128, q: 8 },
  lstm_units: { min: 4, max: 64 },
  batch_size: { distribution: 'q_uniform', min: 16, max: 128, q: 16 },
  dropout: { min: 0, max: 0.6 },
  epochs: { value: 3 },
};

/** Accuracy-like, best near lr 3e-3, adam, 32 units, dropout 0.2; fails (null) for sgd with a tiny learning rate. */
function accuracy(p: TrialParams): number | null {
  if (p.optimizer === 'sgd' && p.learning_rate < 3e-4) return null;
  const lr = (Math.log10(p.learning_rate) + 2.5) ** 2;
  const units = ((p.lstm_units - 32) / 32) ** 2;
  const opt = p.optimizer === 'adam' ? 0 : p.optimizer === 'rmsprop' ? 0.03 : 0.1;
  return 0.95 - 0.05 * lr - 0.04 * units - 0.1 * (p.dropout - 0.2) ** 2 - opt - 0.0002 * p.batch_size + 0.0001 * p.embedding_dim;
}

function mixed(seed: number, multivariate: boolean): SweepSpec {
  return validateSpec({ method: 'bayes', run_cap: 36, seed, max_in_flight: 4, metric: { name: 'val_accuracy', goal: 'maximize' }, bayes: { n_startup_trials: 8, multivariate }, parameters: mixedParameters });
}

function conditional(seed: number, multivariate: boolean): SweepSpec {
  return validateSpec({
    method: 'bayes',
    run_cap: 30,
    seed,
    metric: { name: 'val_loss', goal: 'minimize' },
    bayes: { n_startup_trials: 6, multivariate, gamma: 0.3 },
    parameters: {
      optimizer: { values: ['adam', 'sgd'] },
      lstm_units: { values: [32, 64, 128] },
      learning_rate: { distribution: 'log_uniform_values', min: 1e-3, max: 0.3, condition: { optimizer: { value: 'sgd' } } },
      recurrent_dropout: { min: 0, max: 0.5, condition: { lstm_units: { min: 64 } } },
      dropout: { min: 0, max: 0.5 },
    },
  });
}

/** Distributions with a prior (log_normal, beta, categorical probabilities), and a warm start from a prior sweep. */
function priors(seed: number, multivariate: boolean): SweepSpec {
  return validateSpec({
    method: 'bayes',
    run_cap: 24,
    seed,
    metric: { name: 'val_loss', goal: 'minimize' },
    bayes: { n_startup_trials: 10, multivariate, n_ei_candidates: 16 },
    parameters: {
      learning_rate: { distribution: 'log_normal', mu: -6, sigma: 1.2 },
      lstm_units: { min: 8, max: 96 },
      max_len: { distribution: 'q_uniform', min: 20, max: 160, q: 10 },
      dropout: { distribution: 'beta', a: 2, b: 5 },
      recurrent_dropout: { distribution: 'q_beta', a: 1, b: 3, q: 0.05 },
      optimizer: { values: ['adam', 'sgd', 'rmsprop'], probabilities: [0.6, 0.3, 0.1] },
      epochs: { value: 2 },
    },
  });
}

function loss(p: TrialParams): number {
  return (Math.log(p.learning_rate) + 6.5) ** 2 + ((p.lstm_units - 40) / 20) ** 2 + 10 * (p.dropout - 0.3) ** 2 + ((p.max_len - 70) / 30) ** 2 + (p.optimizer === 'sgd' ? 1 : 0);
}

/** As hyperband leaves them: every third trial stopped at epoch 1, every third at 3, the rest finished at 9. */
function hyperbandSpec(seed: number, multivariate: boolean): SweepSpec {
  return validateSpec({
    method: 'bayes',
    run_cap: 30,
    seed,
    metric: { name: 'val_accuracy', goal: 'maximize' },
    bayes: { n_startup_trials: 6, multivariate },
    early_terminate: { type: 'hyperband', min_iter: 1, eta: 3 },
    parameters: { ...mixedParameters, epochs: { value: 9 } },
  });
}

function withCurve(p: TrialParams, index: number, curves: boolean): Omit<Observation, 'params'> {
  const final = accuracy(p);
  if (final === null) return { value: null };
  const at = (e: number): number => final - 0.2 / e;
  const stop = index % 3 === 0 ? 1 : index % 3 === 1 ? 3 : 9;
  const curve = Object.fromEntries(Array.from({ length: stop }, (_, i) => [i + 1, at(i + 1)]));
  return { value: at(stop), ...(stop < 9 ? { stoppedAtEpoch: stop } : {}), ...(curves ? { curve } : {}) };
}

/** Direct proposals: observations and pending given in a shuffled order, a failed trial among them. */
function direct(multivariate: boolean): TrialParams[] {
  const spec = mixed(11, multivariate);
  const base = sweep({ ...spec, run_cap: 20 }, (p) => ({ value: accuracy(p) }), 1);
  const obs: Observation[] = base.slice(0, 14).map((params, i) => ({ params, value: i === 5 ? null : accuracy(params) }));
  const pending = base.slice(14, 18);
  const shuffled = [...obs.slice(7), ...obs.slice(0, 7).reverse()];
  const sampler = new TpeSampler(spec);
  return [20, 21, 22, 35].flatMap((i) => [sampler.propose(i, obs, pending), sampler.propose(i, shuffled, [...pending].reverse())]);
}

/** Scenario name -> its proposals, in order. */
export const TPE_SCENARIOS: Record<string, () => TrialParams[]> = {
  'mixed univariate, 4 in flight, failures': () => sweep(mixed(1, false), (p) => ({ value: accuracy(p) }), 4),
  'mixed multivariate, 4 in flight, failures': () => sweep(mixed(2, true), (p) => ({ value: accuracy(p) }), 4),
  'mixed univariate, 1 in flight, other seed': () => sweep(mixed(5, false), (p) => ({ value: accuracy(p) }), 1),
  'conditional univariate, 3 in flight': () => sweep(conditional(3, false), (p) => ({ value: loss({ ...p, max_len: 70 }) }), 3),
  'conditional multivariate, 3 in flight': () => sweep(conditional(4, true), (p) => ({ value: loss({ ...p, max_len: 70 }) }), 3),
  'priors univariate, warm start 12': () => {
    const spec = priors(6, false);
    const prior = sweep({ ...spec, seed: 99, run_cap: 12 }, () => ({ value: 0 }), 1).map((params) => ({ params, value: loss(params) }));
    return sweep(spec, (p) => ({ value: loss(p) }), 2, { warmStart: 12 }, prior);
  },
  'priors multivariate, seed option': () => sweep(priors(7, true), (p) => ({ value: loss(p) }), 2, { seed: 1234 }),
  'hyperband curves univariate': () => sweep(hyperbandSpec(8, false), (p, i) => withCurve(p, i, true), 4),
  'hyperband curves multivariate': () => sweep(hyperbandSpec(9, true), (p, i) => withCurve(p, i, true), 4),
  'stopped without curves': () => sweep(hyperbandSpec(10, false), (p, i) => withCurve(p, i, false), 4),
  'direct univariate, shuffled lists': () => direct(false),
  'direct multivariate, shuffled lists': () => direct(true),
};
