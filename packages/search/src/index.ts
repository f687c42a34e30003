export { SearchError, SearchErrorCode } from './errors.js';
// paramsKey lives in @sweepq/spec (random search's extensions de-duplicate with it too); re-exported for callers here.
export { paramsKey } from '@sweepq/spec';
export { planAdaptive, resolveBayes } from './plan-adaptive.js';
export type { AdaptivePlan } from './plan-adaptive.js';
export { TpeSampler } from './tpe-sampler.js';
export type { Observation, TpeSamplerOptions } from './tpe-sampler.js';
export { ashaRule, describeAsha, hyperbandMode } from './pruners/hyperband.js';
export type { HyperbandMode } from './pruners/hyperband.js';
export { describeMedian, medianMode, medianRule } from './pruners/median.js';
export type { MedianMode } from './pruners/median.js';
export type { RuleOutcome } from './pruners/outcome.js';
export { describeRungOutcome, rungStep } from './pruners/rung-step.js';
export type { RungStep } from './pruners/rung-step.js';
export { rungEpochs } from '@sweepq/spec';
