// The search's seeded generator (sfc32, one stream per trial) lives with sweepq's other seeded streams in
// @sweepq/runtime/random; re-exported here so the spec's samplers keep their import.
export { createRng, type Rng } from '@sweepq/runtime/random';
