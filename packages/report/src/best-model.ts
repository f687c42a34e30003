import { committedResult, metricValue, type Objective, type ReopenedTrial, type SweepRecord, type TrialResult } from '@sweepq/results';
import { describeBestRule, type BestRule } from '@sweepq/sweep-config';
import { layout, type ArtifactStore } from '@sweepq/storage';
import { ReportError } from './errors.js';

/** The preprocessing a saved model expects, as recorded in its `vocab.json` (Keras `Tokenizer` + `pad_sequences`). */
export interface Preprocessing {
  lower: boolean;
  /** Characters replaced by `split` before splitting (Keras `filters`). */
  filters: string;
  split: string;
  /** Word ids `>= num_words` are dropped (Keras `num_words`); id 0 is padding. */
  num_words: number;
  max_len: number;
  padding: 'pre';
  truncating: 'pre';
  oov_token: null;
}

/** Content of `sweeps/<id>/best/best.json`. */
export interface BestModelInfo {
  format: 'sweepq-best/1';
  sweepId: string;
  trialId: string;
  metric: { name: string; goal: 'maximize' | 'minimize'; value: number | null };
  params: TrialResult['params'] | null;
  test: TrialResult['test'];
  /** Class names in output order: softmax unit `i` is `classes[i]`. */
  classes: string[];
  preprocessing: Preprocessing;
  files: { model: 'model.json'; weights: 'weights.bin'; vocabulary: 'vocab.json' };
  /** Where the files were copied from. */
  source: string;
  tfjsVersion: string | null;
  backend: string | null;
  /** A self-contained ES-module snippet that loads the model with stock tfjs and classifies text. */
  usage: string;
  /** Several objectives: this trial's value of each (null: none recorded). */
  objectives?: (Objective & { value: number | null })[];
  /** The spec's `best:` rule that picked this trial from the Pareto front, and that front (leaderboard order). */
  rule?: BestRule & { text: string };
  front?: FrontTrial[];
  writtenAt: string;
}

/** A trial of the Pareto front: its values by objective name. */
export interface FrontTrial {
  trialId: string;
  values: Record<string, number | null>;
}

/** Content of `sweeps/<id>/best/front.json` (several objectives, no `best:` rule). */
export interface FrontModelsInfo {
  format: 'sweepq-front/1';
  sweepId: string;
  objectives: Objective[];
  /**
   * The front's trials in leaderboard order; `folder` (relative to `best/`) holds the trial's model as `best/` holds
   * a single one (model.json, weights.bin, vocab.json, best.json, README.md); null when the trial saved no model.
   */
  trials: (FrontTrial & { folder: string | null })[];
  writtenAt: string;
}

/** Options of {@link writeBestModel}. */
export interface BestModelOptions {
  /** Where the files go; default `best/` of the sweep. */
  prefix?: string;
  /** Several objectives: best.json and the README give the trial's value of each. */
  objectives?: readonly Objective[];
  /** The `best:` rule that picked the trial and the front it picked from (named in best.json and the README). */
  rule?: BestRule;
  front?: readonly FrontTrial[];
}

interface VocabLike {
  word_index?: unknown;
  num_words: number;
  max_len: number;
  lower: boolean;
  filters: string;
  split: string;
  classes: string[];
}

/**
 * JavaScript (ES module, Node 20 or a browser bundle) that loads `best/` with nothing but `@tensorflow/tfjs` and
 * applies the same preprocessing as training. Kept as one string so README.md and best.json show the same code, and
 * tests can run it.
 */
export const USAGE_SNIPPET = `import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';

// Download sweeps/<id>/best/ first (sweepq download <id>, aws s3 cp --recursive, or the bucket's web console).
const dir = process.argv[2] ?? './best';
const vocab = JSON.parse(await readFile(\`\${dir}/vocab.json\`, 'utf8'));
const modelJson = JSON.parse(await readFile(\`\${dir}/model.json\`, 'utf8'));
const weights = await readFile(\`\${dir}/weights.bin\`);
const model = await tf.loadLayersModel(tf.io.fromMemory({
  modelTopology: modelJson.modelTopology,
  weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
  weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
}));
// In a browser, or from an HTTP(S) URL of model.json (for example a presigned one):
//   const model = await tf.loadLayersModel('https://…/best/model.json');

// Keras text_to_word_sequence + texts_to_sequences(num_words) + pad_sequences(maxlen, padding='pre', truncating='pre').
function encode(text) {
  let s = vocab.lower ? text.toLowerCase() : text;
  for (const c of vocab.filters) s = s.split(c).join(vocab.split);
  const ids = s.split(vocab.split).filter(Boolean)
    .map((w) => (Object.hasOwn(vocab.word_index, w) ? vocab.word_index[w] : 0))
    .filter((id) => id > 0 && id < vocab.num_words)
    .slice(-vocab.max_len);
  return [...new Array(vocab.max_len - ids.length).fill(0), ...ids];
}

const texts = process.argv.slice(3).length > 0 ? process.argv.slice(3) : ['the text to classify'];
const probs = tf.tidy(() => model.predict(tf.tensor2d(texts.map(encode), undefined, 'int32')).arraySync());
texts.forEach((text, i) => {
  const best = probs[i].indexOf(Math.max(...probs[i]));
  console.log(JSON.stringify({ text, label: vocab.classes[best], probabilities: Object.fromEntries(vocab.classes.map((c, j) => [c, probs[i][j]])) }));
});
`;

type Params = BestModelInfo['params'];

/** The recurrent part of a trial's model: cell, depth, direction (defaults: one LSTM layer, one direction, no mask). */
function recurrentShape(params: Params): { cell: string; layers: number; bidirectional: boolean; maskZero: boolean } {
  const q = (params ?? {}) as Record<string, unknown>;
  return {
    cell: q['cell'] === 'gru' ? 'GRU' : 'LSTM',
    layers: typeof q['lstm_layers'] === 'number' ? q['lstm_layers'] : 1,
    bidirectional: q['bidirectional'] === true,
    maskZero: q['mask_zero'] === true,
  };
}

/** `Embedding(mask_zero) -> Bidirectional(GRU) x 2 -> Dense(softmax)` and the like, from the trial's parameters. */
export function architecture(params: Params): string {
  const r = recurrentShape(params);
  const rnn = r.bidirectional ? `Bidirectional(${r.cell})` : r.cell;
  return `Embedding${r.maskZero ? '(mask_zero)' : ''} -> ${rnn}${r.layers > 1 ? ` x ${r.layers}` : ''} -> Dense(softmax)`;
}

function layerClasses(params: Params): string {
  const r = recurrentShape(params);
  return ['`Embedding`', r.bidirectional ? '`Bidirectional`' : null, `\`${r.cell}\``, '`Dense`'].filter((c) => c !== null).join(', ');
}

function gruNote(params: Params): string {
  return recurrentShape(params).cell === 'GRU'
    ? '; the GRU is the `reset_after=False` form (the one tfjs has), which Keras builds from the saved config as it is'
    : '';
}

/**
 * What the README says about several objectives: the trial's value of each, and why it is here (the `best:` rule's
 * pick from the front, or one of the front's models). Empty for a single metric, so that README stays as it was.
 */
function objectivesText(info: BestModelInfo, inFront: boolean): string {
  if (!info.objectives) return '';
  const values = `Objectives: ${info.objectives.map((o) => `${o.name} = ${o.value ?? 'n/a'} (${o.goal})`).join(', ')}.`;
  const front = info.front ?? [];
  const why = info.rule
    ? `Picked from the Pareto front of ${front.length} trial${front.length === 1 ? '' : 's'} (${front.map((t) => `\`${t.trialId}\``).join(', ')}) by the spec's \`best:\` rule: ${info.rule.text}.`
    : inFront
      ? `One of the ${front.length} trials on the Pareto front (no trial is better on every objective); \`../front.json\` and \`../README.md\` list them all.`
      : '';
  return `${values}\n${why}\n`;
}

function readme(info: BestModelInfo, dir: string): string {
  const p = info.preprocessing;
  const params = info.params ? Object.entries(info.params).map(([k, v]) => `| ${k} | ${String(v)} |`).join('\n') : '';
  const inFront = dir !== 'best';
  return `# ${inFront ? `Model of trial \`${info.trialId}\`, on the Pareto front of sweep` : 'Best model of sweep'} \`${info.sweepId}\`

Trial \`${info.trialId}\`: ${info.metric.name} = ${info.metric.value ?? 'n/a'} (${info.metric.goal})${info.test ? `; held-out test accuracy ${info.test.accuracy.toFixed(4)}` : ''}.
${objectivesText(info, inFront)}Trained with TensorFlow.js ${info.tfjsVersion ?? '(unknown version)'} on the ${info.backend ?? 'unknown'} backend.

## Files

- \`model.json\` + \`weights.bin\`: a Keras-style \`${architecture(info.params)}\` model in the tfjs layers
  format (standard layer classes only: ${layerClasses(info.params)}), loadable with stock \`tf.loadLayersModel\`.
- \`vocab.json\`: the vocabulary and preprocessing settings (format \`sweepq-vocab/1\`).
- \`best.json\`: this description as JSON (trial, metric, parameters, classes, preprocessing, usage snippet).

## Input

The model takes an \`int32\` tensor of shape \`[batch, ${p.max_len}]\` of word ids and returns class probabilities of shape
\`[batch, ${info.classes.length}]\`, in this order: ${info.classes.map((c) => `\`${c.replaceAll('`', "'")}\``).join(', ')}.

Preprocessing (the Keras \`Tokenizer\` / \`pad_sequences\` rules, as in training):

1. ${p.lower ? 'Lower-case the text.' : 'Keep the case as it is.'}
2. Replace every character of \`filters\` (in \`vocab.json\`) with \`${p.split === ' ' ? 'a space' : p.split}\`, split on it, drop empty strings.
3. Map each word through \`word_index\`; drop unknown words and ids \`>= num_words\` (${p.num_words}). There is no OOV token.
4. Keep the last ${p.max_len} ids (truncating \`pre\`) and left-pad with 0 to ${p.max_len} (padding \`pre\`).

## Use it with stock tfjs (Node 22 or later, \`npm install @tensorflow/tfjs\`)

Save as \`predict.mjs\` and run \`node predict.mjs ./${dir} "some text" "more text"\`:

\`\`\`js
${USAGE_SNIPPET}\`\`\`

Or with the sweepq CLI: \`sweepq predict ${info.sweepId}${inFront ? ` --trial ${info.trialId}` : ''} "some text"\`.

## Use it in Keras (Python)

The tfjs layers format converts to a Keras HDF5 file with the \`tensorflowjs\` pip package (TensorFlow 2.x; under
Keras 3 load the result with \`tf_keras\`):

\`\`\`sh
pip install tensorflowjs
tensorflowjs_converter --input_format=tfjs_layers_model --output_format=keras ${dir}/model.json model.h5
python -c "import tensorflow as tf; m = tf.keras.models.load_model('model.h5'); m.summary()"
\`\`\`

The layers are Keras' own with the same weights${gruNote(info.params)}. Feed it the same ids as above (\`pad_sequences(...,
maxlen=${p.max_len}, padding='pre', truncating='pre')\`).

## Trial parameters

| parameter | value |
| --- | --- |
${params}
`;
}

const MODEL_FILES = [
  ['model.json', 'application/json'],
  ['weights.bin', 'application/octet-stream'],
  ['vocab.json', 'application/json'],
] as const;

/**
 * Publish a trial's model as the sweep's best: copy `model.json`, `weights.bin` and `vocab.json` from
 * the trial's model folder (the one its result names) to `best/`, then write `best/best.json` ({@link BestModelInfo}) and `best/README.md`
 * (how to load it with stock tfjs and what preprocessing it expects). Idempotent; `best.json` is written after the
 * model files, so a reader that sees it finds a complete model. With several objectives (`opts`), best.json and the
 * README also give the trial's value of each, and the `best:` rule and front that picked it.
 *
 * @throws ReportError `NO_MODEL` when the trial's model.json, weights.bin or vocab.json is missing.
 */
export async function writeBestModel(store: ArtifactStore, sweepId: string, trialId: string, opts: BestModelOptions = {}): Promise<void> {
  const [result, sweep] = await Promise.all([
    store.getJson<TrialResult | ReopenedTrial>(layout.result(sweepId, trialId)).then(committedResult),
    store.getJson<SweepRecord>(layout.sweepJson(sweepId)),
  ]);
  // The model of the attempt the result names (older results: `model/`).
  const src = layout.resultModelPrefix({ sweepId, trialId, attemptKey: result?.attemptKey });
  const bodies = await Promise.all(MODEL_FILES.map(([f]) => store.get(`${src}${f}`)));
  const missing = MODEL_FILES.filter((_, i) => bodies[i] === undefined).map(([f]) => f);
  if (missing.length > 0) {
    throw new ReportError('NO_MODEL', `trial ${trialId} of sweep ${sweepId} has no ${missing.join(', ')} under ${store.uri(src)}`);
  }
  const best = opts.prefix ?? layout.bestPrefix(sweepId);
  for (const [i, [f, type]] of MODEL_FILES.entries()) await store.put(`${best}${f}`, bodies[i] as Uint8Array, type);

  const vocab = JSON.parse(new TextDecoder().decode(bodies[2])) as VocabLike;
  const metric = result?.metric ?? { ...(sweep?.metric ?? { name: 'val_accuracy', goal: 'maximize' as const }), value: null };
  const objectives = opts.objectives?.map(({ name, goal }) => ({ name, goal, value: result ? metricValue(result, name) : null }));
  const info: BestModelInfo = {
    format: 'sweepq-best/1',
    sweepId,
    trialId,
    metric,
    params: result?.params ?? null,
    test: result?.test ?? null,
    classes: vocab.classes,
    preprocessing: {
      lower: vocab.lower,
      filters: vocab.filters,
      split: vocab.split,
      num_words: vocab.num_words,
      max_len: vocab.max_len,
      padding: 'pre',
      truncating: 'pre',
      oov_token: null,
    },
    files: { model: 'model.json', weights: 'weights.bin', vocabulary: 'vocab.json' },
    source: src,
    tfjsVersion: result?.tfjsVersion ?? null,
    backend: result?.backend ?? null,
    usage: USAGE_SNIPPET,
    ...(objectives ? { objectives } : {}),
    ...(opts.rule ? { rule: { ...opts.rule, text: describeBestRule(opts.rule, opts.objectives ?? []) } } : {}),
    ...(opts.front ? { front: [...opts.front] } : {}),
    writtenAt: new Date().toISOString(),
  };
  const dir = opts.prefix === undefined ? 'best' : `best/${opts.prefix.slice(layout.bestPrefix(sweepId).length).replace(/\/$/, '')}`;
  await store.put(`${best}README.md`, readme(info, dir), 'text/markdown; charset=utf-8');
  await store.putJson(`${best}best.json`, info);
}

/** A front trial's values by objective name, as best.json and front.json give them. */
export function frontTrial(trialId: string, values: readonly (number | null)[], objectives: readonly Objective[]): FrontTrial {
  return { trialId, values: Object.fromEntries(objectives.map((o, i) => [o.name, values[i] ?? null])) };
}

/**
 * Publish every model of a Pareto front (several objectives, no `best:` rule): each trial's files as
 * {@link writeBestModel} writes them, in `best/<trialId>/`, then `best/front.json` ({@link FrontModelsInfo}) and
 * `best/README.md` (the front's table and how to load one), then removes what an earlier front left in `best/` (a
 * resumed or extended sweep's front changes). A front trial without a model is listed with `folder: null`.
 */
export async function writeFrontModels(store: ArtifactStore, sweepId: string, front: readonly FrontTrial[], objectives: readonly Objective[]): Promise<FrontModelsInfo> {
  const best = layout.bestPrefix(sweepId);
  const trials: FrontModelsInfo['trials'] = [];
  for (const t of front) {
    try {
      await writeBestModel(store, sweepId, t.trialId, { prefix: `${best}${t.trialId}/`, objectives, front });
      trials.push({ ...t, folder: `${t.trialId}/` });
    } catch (err) {
      if (!(err instanceof ReportError && err.code === 'NO_MODEL')) throw err;
      trials.push({ ...t, folder: null });
    }
  }
  const info: FrontModelsInfo = { format: 'sweepq-front/1', sweepId, objectives: objectives.map(({ name, goal }) => ({ name, goal })), trials, writtenAt: new Date().toISOString() };
  await store.putJson(`${best}front.json`, info);
  await store.put(`${best}README.md`, frontReadme(info), 'text/markdown; charset=utf-8');
  const keep = (key: string) => key === `${best}front.json` || key === `${best}README.md` || trials.some((t) => t.folder !== null && key.startsWith(`${best}${t.folder}`));
  for (const key of await store.list(best)) if (!keep(key)) await store.delete(key);
  return info;
}

function frontReadme(info: FrontModelsInfo): string {
  const names = info.objectives.map((o) => o.name);
  const rows = info.trials.map((t) => `| ${t.folder ? `[\`${t.trialId}\`](${t.folder}README.md)` : `\`${t.trialId}\` (no model saved)`} | ${names.map((n) => t.values[n] ?? 'n/a').join(' | ')} |`);
  const first = info.trials.find((t) => t.folder !== null);
  return `# The Pareto front of sweep \`${info.sweepId}\`

The sweep optimised ${info.objectives.map((o) => `\`${o.name}\` (${o.goal})`).join(', ')}. No single trial is best on all of them,
so this folder holds the model of every trial on the Pareto front: the trials no other trial beats on every objective
at once. Choose the trade-off you want from this table (best first by \`${names[0] ?? ''}\`); \`front.json\` has the same
data for scripts. A \`best:\` rule in the spec (for example \`best: {pick: model_bytes, within: {val_accuracy: 0.005}}\`)
makes a sweep pick one instead.

| trial | ${names.join(' | ')} |
| --- | ${names.map(() => '---').join(' | ')} |
${rows.join('\n')}

## Files

Each \`<trialId>/\` folder is a complete model as a single-objective sweep's \`best/\` holds it: \`model.json\` and
\`weights.bin\` (a Keras-style model in the tfjs layers format, loadable with stock \`tf.loadLayersModel\`),
\`vocab.json\` (vocabulary and preprocessing), \`best.json\` (trial, parameters, objective values, classes,
preprocessing, usage snippet) and a \`README.md\` on loading it with tfjs or converting it for Keras.

## Load one

${first ? `\`\`\`sh
node predict.mjs ./best/${first.trialId} "some text"       # predict.mjs: the snippet in ${first.trialId}/README.md and best.json's usage
sweepq predict ${info.sweepId} --trial ${first.trialId} "some text"
\`\`\`

In a browser, or from an HTTP(S) URL: \`tf.loadLayersModel('https://…/best/${first.trialId}/model.json')\`.` : 'No trial of the front saved a model.'}
`;
}
