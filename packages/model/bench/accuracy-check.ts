/**
 * Accuracy check (not a unit test: minutes, not seconds): trains the seed model on the built-in spam-assassin dataset
 * with the stock `tf.layers.lstm` and with sweepq's fused LSTM, same seed, same epochs, same batches and dropout
 * masks, and prints both validation accuracies per epoch. The fused model should match within noise.
 *
 *   node --conditions=source --import tsx packages/model/bench/accuracy-check.ts [--epochs 3] [--backend wasm]
 *        [--max-words 10000] [--max-len 100] [--batch 32] [--embedding 64] [--units 64] [--dropout 0.2]
 *        [--recurrent-dropout 0.2] [--seed 1] [--variants lstm,lstm-x2,bilstm,gru,bigru,bilstm-x2,lstm-mask,bigru-mask|all]
 *        [--json]
 *
 * `--variants` (names as in `bench/variants.ts`): the same check for each architecture variant, stock
 * (`buildModelWith` with `lstmImplementation: 'stock'`: `tf.layers.lstm`/`gru`/`bidirectional`) against sweepq's fused layers, printed as
 * one table row per variant (validation accuracy after each epoch, both models; seconds per epoch). Masked variants
 * train on length-bucketed, trimmed batches as `trainModel` does for any model with `mask_zero`.
 */
import { parseArgs } from 'node:util';
import { encodeForTrial, loadDataset, prepareDataset } from '@sweepq/data';
import { initBackend, trainModel, type EpochLog, type ModelParams, type TrainData } from '../src/index.js';
import { buildModelWith } from '../src/testing.js';
import { oneOf, positiveInt as int } from './cli-args.js';
import { printTable } from './table.js';
import { parseVariants, variantParams, type Variant } from './variants.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'wasm' },
    'max-words': { type: 'string', default: '10000' },
    'max-len': { type: 'string', default: '100' },
    batch: { type: 'string', default: '32' },
    embedding: { type: 'string', default: '64' },
    units: { type: 'string', default: '64' },
    dropout: { type: 'string', default: '0.2' },
    'recurrent-dropout': { type: 'string', default: '0.2' },
    seed: { type: 'string', default: '1' },
    variants: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});

const epochs = int('epochs', args.epochs);
const maxWords = int('max-words', args['max-words']);
const maxLen = int('max-len', args['max-len']);
const batchSize = int('batch', args.batch);
const embeddingDim = int('embedding', args.embedding);
const lstmUnits = int('units', args.units);
const seed = int('seed', args.seed);
const backend = oneOf('backend', args.backend, ['wasm', 'cpu', 'node'] as const);
const variants: Variant[] | null = args.variants != null ? parseVariants(args.variants) : null;

const info = await initBackend({ prefer: backend });
const raw = await loadDataset({ uri: 'builtin:spam-assassin', textField: 'text', labelField: 'label' });
const prepared = prepareDataset(raw, { validationSplit: 0.2, testSplit: 0.1, seed, uri: 'builtin:spam-assassin' });
const encode = (split: (typeof prepared.splits)['train']): TrainData => ({ ...encodeForTrial(split, { maxWords, maxLen }), maxLen });
const train = encode(prepared.splits.train);
const validation = encode(prepared.splits.validation);

/** Stock and sweepq's model of one architecture (`arch`: the variant's fields; none for the seed model), same seed and batches. */
async function trainBoth(label: string, arch: Partial<ModelParams> = {}): Promise<Record<'stock' | 'fused', EpochLog[]>> {
  const results: Partial<Record<'stock' | 'fused', EpochLog[]>> = {};
  for (const impl of ['stock', 'fused'] as const) {
    const model = buildModelWith({
      maxWords,
      maxLen,
      embeddingDim,
      lstmUnits,
      dropout: Number(args.dropout),
      recurrentDropout: Number(args['recurrent-dropout']),
      learningRate: 1e-3,
      optimizer: 'adam',
      numClasses: prepared.classes.length,
      seed,
      ...arch,
    }, { lstmImplementation: impl });
    const { history } = await trainModel({
      model,
      train,
      validation,
      epochs,
      batchSize,
      seed,
      onEpochEnd: (log) => {
        if (!args.json) console.error(`${label} ${impl} epoch ${log.epoch}: val_accuracy ${log.val_accuracy.toFixed(4)}, ${log.samplesPerSec.toFixed(0)} samples/s`);
      },
    });
    results[impl] = history;
    model.dispose();
  }
  return results as Record<'stock' | 'fused', EpochLog[]>;
}

const perEpoch = (h: EpochLog[]): Array<Pick<EpochLog, 'epoch' | 'val_accuracy' | 'val_loss' | 'samplesPerSec' | 'seconds'>> =>
  h.map((e) => ({ epoch: e.epoch, val_accuracy: e.val_accuracy, val_loss: e.val_loss, samplesPerSec: e.samplesPerSec, seconds: e.seconds }));

if (variants == null) {
  const results = await trainBoth('lstm');
  const summary = {
    backend: info.backend,
    trainN: train.n,
    validationN: validation.n,
    epochs,
    stock: perEpoch(results.stock),
    fused: perEpoch(results.fused),
    finalValAccuracyDiff: results.fused.at(-1)!.val_accuracy - results.stock.at(-1)!.val_accuracy,
  };
  if (args.json) console.log(JSON.stringify(summary));
  else console.log(JSON.stringify(summary, null, 2));
} else {
  const rows: Array<{ variant: string; stock: ReturnType<typeof perEpoch>; fused: ReturnType<typeof perEpoch>; finalValAccuracyDiff: number }> = [];
  for (const v of variants) {
    const r = await trainBoth(v.name, variantParams(v));
    rows.push({ variant: v.name, stock: perEpoch(r.stock), fused: perEpoch(r.fused), finalValAccuracyDiff: r.fused.at(-1)!.val_accuracy - r.stock.at(-1)!.val_accuracy });
    if (args.json) console.log(JSON.stringify(rows.at(-1)));
  }
  const setting = {
    node: process.version,
    backend: info.backend,
    trainN: train.n,
    validationN: validation.n,
    epochs,
    maxLen,
    maxWords,
    embeddingDim,
    lstmUnits,
    dropout: Number(args.dropout),
    recurrentDropout: Number(args['recurrent-dropout']),
    seed,
  };
  if (args.json) console.log(JSON.stringify(setting));
  else {
    console.log(
      `spam-assassin: ${train.n} training rows, ${validation.n} validation rows; max_len ${maxLen}, max_words ${maxWords}, embedding ${embeddingDim}, ` +
        `units ${lstmUnits}, dropout ${setting.dropout}/${setting.recurrentDropout}, seed ${seed}, ${epochs} epochs; ${info.backend}, node ${process.version}`,
    );
    const accs = (h: ReturnType<typeof perEpoch>): string => h.map((e) => e.val_accuracy.toFixed(4)).join(' / ');
    const secs = (h: ReturnType<typeof perEpoch>): string => (h.reduce((a, e) => a + e.seconds, 0) / h.length).toFixed(1);
    const header = ['variant', 'stock val acc by epoch', 'sweepq val acc by epoch', 'final diff', 'stock s/epoch', 'sweepq s/epoch'];
    const table = rows.map((r) => [r.variant, accs(r.stock), accs(r.fused), `${r.finalValAccuracyDiff >= 0 ? '+' : ''}${(100 * r.finalValAccuracyDiff).toFixed(2)}%`, secs(r.stock), secs(r.fused)]);
    printTable(header, table);
  }
}
