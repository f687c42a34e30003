import * as tf from '@tensorflow/tfjs';
import { ModelError } from './errors.js';
import { FAST_DROPOUT_CLASS_NAME } from './fast-dropout.js';
import { FUSED_CLASS_NAMES } from './fused-layers.js';
import { LAZY_CONFIG_KEY } from './lazy-adam.js';
import { makeLazyAdam, type ImplementationOptions } from './model.js';

/**
 * A model in the standard tfjs layers format: `modelJson` is the content of `model.json` (its weightsManifest
 * points at `weights.bin`), `weights` the content of `weights.bin`. Written side by side, the pair loads with stock
 * `tf.loadLayersModel('file://…/model.json')` (tfjs-node) or over http.
 */
export interface ModelArtifactsFiles {
  modelJson: Record<string, unknown>;
  weights: Uint8Array;
}

/** File name of the weights shard that `model.json` refers to. */
export const WEIGHTS_FILE = 'weights.bin';

/**
 * Serialise a model to {@link ModelArtifactsFiles} via `model.save(tf.io.withSaveHandler(…))`. The training
 * configuration (loss, metrics, optimizer class and config) is included, so {@link deserializeModel} returns a
 * compiled model; optimizer *state* is not (see `getOptimizerState`).
 */
export async function serializeModel(model: tf.LayersModel): Promise<ModelArtifactsFiles> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (captured == null) throw new ModelError('SERIALIZE_FAILED', 'model.save did not hand over any artifacts');
  const a = captured;
  const weightData = a.weightData == null ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(a.weightData);
  const modelJson: Record<string, unknown> = {
    modelTopology: a.modelTopology,
    format: a.format ?? 'layers-model',
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: a.weightSpecs ?? [] }],
  };
  const trainingConfig = a.trainingConfig ?? trainingConfigOf(model);
  if (trainingConfig != null) modelJson['trainingConfig'] = trainingConfig;
  if (a.signature != null) modelJson['signature'] = a.signature;
  if (a.userDefinedMetadata != null) modelJson['userDefinedMetadata'] = a.userDefinedMetadata;
  return { modelJson, weights: new Uint8Array(weightData) };
}

/**
 * The compile settings (loss, metrics, optimizer class and config) in model.json form. tfjs only writes them with
 * `includeOptimizer`, which also appends the optimizer slots to the weights (tripling the file for Adam) and leaks
 * a tensor; `getTrainingConfig` is the method it uses for that, protected in the typings only.
 */
function trainingConfigOf(model: tf.LayersModel): tf.io.TrainingConfig | undefined {
  if (model.optimizer == null) return undefined;
  const get = (model as unknown as { getTrainingConfig?: () => tf.io.TrainingConfig }).getTrainingConfig;
  return typeof get === 'function' ? get.call(model) : undefined;
}

/** Deep copy of a topology with the class names in `map` (stock class -> sweepq class) replaced. */
function mapClasses(node: unknown, map: Record<string, string>): unknown {
  if (Array.isArray(node)) return node.map((n) => mapClasses(n, map));
  if (node == null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = mapClasses(v, map);
  const cls = out['class_name'];
  if (typeof cls === 'string' && Object.hasOwn(map, cls) && out['config'] != null) out['class_name'] = map[cls];
  return out;
}

/**
 * Load {@link ModelArtifactsFiles} with `tf.loadLayersModel(tf.io.fromMemory(…))`; works on any backend. The model is
 * compiled when `model.json` carries a training config (as {@link serializeModel} writes it). Recurrent layers load as
 * the fused implementation (and Dropout layers as `FastDropout`), and Adam's embedding update is the saved one;
 * `files` is not modified.
 */
export async function deserializeModel(files: ModelArtifactsFiles): Promise<tf.LayersModel> {
  return deserializeModelWith(files, {});
}

/**
 * {@link deserializeModel} with the implementation chosen by `opts` (tests and benchmarks, through
 * `@sweepq/model/testing`): `lstmImplementation: 'stock'` loads the stock layers; `embeddingOptimizer` overrides the
 * saved embedding update (ignored for optimizers other than Adam).
 */
export async function deserializeModelWith(files: ModelArtifactsFiles, opts: ImplementationOptions): Promise<tf.LayersModel> {
  const original = files.modelJson as unknown as tf.io.ModelJSON;
  const json =
    (opts.lstmImplementation ?? 'fused') === 'fused' && original.modelTopology != null
      ? { ...original, modelTopology: mapClasses(original.modelTopology, { ...FUSED_CLASS_NAMES, Dropout: FAST_DROPOUT_CLASS_NAME }) as tf.io.ModelJSON['modelTopology'] }
      : original;
  if (json.modelTopology == null || !Array.isArray(json.weightsManifest)) {
    throw new ModelError('INVALID_ARTIFACTS', 'model.json: expected modelTopology and weightsManifest');
  }
  const specs = json.weightsManifest.flatMap((group) => group.weights);
  const expected = specs.reduce((sum, s) => sum + s.shape.reduce((n, d) => n * d, 1) * bytesPerElement(s.dtype), 0);
  if (files.weights.byteLength !== expected) {
    throw new ModelError(
      'INVALID_ARTIFACTS',
      `${WEIGHTS_FILE}: expected ${expected} bytes for the weights listed in model.json, got ${files.weights.byteLength}`,
    );
  }
  const buffer = files.weights.slice().buffer;
  const artifacts = tf.io.getModelArtifactsForJSONSync(json, specs, buffer);
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const opt = model.optimizer as tf.Optimizer | undefined;
  // By class name: tfjs' Optimizer makes `instanceof` true for any optimizer.
  if (opt != null && opt.getClassName() === 'Adam') {
    const tc = json.trainingConfig as { optimizer_config?: { config?: Record<string, unknown> } } | undefined;
    const saved = tc?.optimizer_config?.config ?? {};
    const lazy = (opts.embeddingOptimizer ?? (saved[LAZY_CONFIG_KEY] === 'lazy' ? 'lazy' : 'dense')) === 'lazy';
    if (lazy) {
      const c = opt.getConfig() as { learningRate: number; beta1: number; beta2: number; epsilon: number };
      model.optimizer = makeLazyAdam(c.learningRate, model, c.beta1, c.beta2, c.epsilon);
      // The loaded model owned (and would dispose) the replaced optimizer; it owns this one instead.
      (model as unknown as { isOptimizerOwned: boolean }).isOptimizerOwned = true;
      opt.dispose();
    }
  }
  return model;
}

function bytesPerElement(dtype: string): number {
  switch (dtype) {
    case 'float32':
    case 'int32':
      return 4;
    case 'bool':
    case 'uint8':
      return 1;
    case 'float16':
    case 'uint16':
      return 2;
    default:
      throw new ModelError('INVALID_ARTIFACTS', `model.json: unsupported weight dtype ${dtype}`);
  }
}

/**
 * Optimizer state for checkpoints: `names[i]` has shape `shapes[i]`, values are float32 little-endian, concatenated
 * in order in `weights`. The first entry is the iteration count (`iter`), then the optimizer's slots (Adam: first
 * and second moments per variable, named `<variable>/m` and `<variable>/v`).
 */
export interface OptimizerState {
  names: string[];
  weights: Uint8Array;
  shapes: number[][];
}

function optimizerOf(model: tf.LayersModel): tf.Optimizer {
  const opt = model.optimizer as tf.Optimizer | undefined;
  if (opt == null) throw new ModelError('NOT_COMPILED', 'model has no optimizer; compile it (buildModel) first');
  return opt;
}

/**
 * Snapshot the optimizer's state (`optimizer.getWeights()`): iterations and slots such as Adam's moments. Before the
 * first training step only `iter` is present. All values are stored as float32 (the iteration count is exact up to
 * 2^24 steps).
 */
export async function getOptimizerState(model: tf.LayersModel): Promise<OptimizerState> {
  const named = await optimizerOf(model).getWeights();
  try {
    const names: string[] = [];
    const shapes: number[][] = [];
    const parts: Float32Array[] = [];
    for (const { name, tensor } of named) {
      names.push(name);
      shapes.push([...tensor.shape]);
      const values = await tensor.data();
      parts.push(values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>));
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    const all = new Float32Array(total);
    let offset = 0;
    for (const p of parts) {
      all.set(p, offset);
      offset += p.length;
    }
    return { names, weights: new Uint8Array(all.buffer), shapes };
  } finally {
    // getWeights returns the slot variables themselves (keep) plus a freshly made iterations scalar (dispose).
    for (const { tensor } of named) if (!(tensor instanceof tf.Variable)) tensor.dispose();
  }
}

/**
 * Restore a state from {@link getOptimizerState} into `model`'s optimizer (`optimizer.setWeights()`). Meant for a
 * freshly built or loaded model of the same architecture and optimizer class; slots are matched by position.
 * Adam's bias-correction powers are recomputed from the iteration count (tfjs behaviour), which can differ from the
 * uninterrupted run in the last float32 bits.
 */
export async function setOptimizerState(model: tf.LayersModel, state: OptimizerState): Promise<void> {
  const opt = optimizerOf(model);
  if (state.names.length !== state.shapes.length) {
    throw new ModelError('INVALID_OPTIMIZER_STATE', `optimizer state: ${state.names.length} names but ${state.shapes.length} shapes`);
  }
  const values = new Float32Array(state.weights.slice().buffer);
  const sizes = state.shapes.map((s) => s.reduce((n, d) => n * d, 1));
  const total = sizes.reduce((n, s) => n + s, 0);
  if (values.length !== total) {
    throw new ModelError('INVALID_OPTIMIZER_STATE', `optimizer state: expected ${total} float32 values for the listed shapes, got ${values.length}`);
  }
  const previous = await opt.getWeights();
  const named: Array<{ name: string; tensor: tf.Tensor }> = [];
  let offset = 0;
  state.names.forEach((name, i) => {
    const size = sizes[i] as number;
    const shape = state.shapes[i] as number[];
    const slice = values.subarray(offset, offset + size);
    offset += size;
    const tensor = i === 0 && name === 'iter' ? tf.tensor(Int32Array.from(slice), shape, 'int32') : tf.tensor(slice, shape, 'float32');
    named.push({ name, tensor });
  });
  try {
    await opt.setWeights(named);
  } finally {
    // setWeights makes its own variables from these tensors (sharing data by reference count).
    tf.dispose(named.map((n) => n.tensor));
    for (const { tensor } of previous) if (!(tensor instanceof tf.Variable)) tensor.dispose();
  }
  // The replaced slot variables are no longer referenced by the optimizer.
  for (const { tensor } of previous) if (tensor instanceof tf.Variable) tensor.dispose();
}
