export { SearchError, SearchErrorCode } from './errors.js';
// paramsKey lives in @sweepq/spec (random search's extensions de-duplicate with it too); re-exported for callers here.
export { paramsKey } from '@sweepq/spec';
export { planAdaptive, resolveBayes } from './plan-adaptive.js';
export type { AdaptivePlan } from './plan-adaptive.js';
export { TpeSampler } from './tpe-sampler.js';
export type { Observation, TpeSamplerOptions } from './tpe-sampler.js';
export { RungStore } from './rung-store.js';
export type { RungDecision } from './rung-store.js';
export { ashaRule, medianRule } from './rung-decision.js';
export type { RuleOutcome } from './rung-decision.js';
export { rungEpochs } from '@sweepq/spec';
