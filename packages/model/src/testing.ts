/**
 * `@sweepq/model/testing`: what tests and benchmarks choose that a sweep never does, kept out of the package's main
 * entry: the model built or loaded with the stock layers or dense Adam for the embedding (to compare against, and to
 * benchmark the stock path). The kernels' switches are in `@sweepq/kernels/testing`.
 */
export { buildModelWith, type ImplementationOptions } from './model.js';
export { deserializeModelWith } from './serialization.js';
