/**
 * Accuracy check (not a unit test: minutes, not seconds): trains the seed model on the built-in spam-assassin dataset
 * with the stock `tf.layers.lstm` and with sweepq's fused LSTM, same seed, same epochs, same batches and dropout
 * masks, and prints both validation accuracies per epoch. The fused model should match within noise.
 *
 *   node --conditions=source --import tsx packages/model/bench/accuracy-check.ts [--epochs 3] [--backend wasm]
 *        [--max-words 10000] [--max-len 100] [--batch 32] [--dropout 0.2] [--recurrent-dropout 0.2] [--json]
 */
import { parseArgs } from 'node:util';
import { encodeForTrial, loadDataset, prepareDataset } from '@sweepq/data';
import { buildModel, initBackend, trainModel, type EpochLog, type TrainData } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'wasm' },
    'max-words': { type: 'string', default: '10000' },
    'max-len': { type: 'string', default: '100' },
    batch: { type: 'string', default: '32' },
    dropout: { type: 'string', default: '0.2' },
    'recurrent-dropout': { type: 'string', default: '0.2' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});

const epochs = Number(args.epochs);
const maxWords = Number(args['max-words']);
const maxLen = Number(args['max-len']);
const batchSize = Number(args.batch);
const seed = Number(args.seed);
const backend = args.backend as 'wasm' | 'cpu' | 'node';

const info = await initBackend({ prefer: backend });
const raw = await loadDataset({ uri: 'builtin:spam-assassin', textField: 'text', labelField: 'label' });
const prepared = prepareDataset(raw, { validationSplit: 0.2, testSplit: 0.1, seed, uri: 'builtin:spam-assassin' });
const encode = (split: (typeof prepared.splits)['train']): TrainData => ({ ...encodeForTrial(split, { maxWords, maxLen }), maxLen });
const train = encode(prepared.splits.train);
const validation = encode(prepared.splits.validation);

const results: Record<string, EpochLog[]> = {};
for (const impl of ['stock', 'fused'] as const) {
  const model = buildModel({
    maxWords,
    maxLen,
    embeddingDim: 64,
    lstmUnits: 64,
    dropout: Number(args.dropout),
    recurrentDropout: Number(args['recurrent-dropout']),
    learningRate: 1e-3,
    optimizer: 'adam',
    numClasses: prepared.classes.length,
    seed,
    lstmImplementation: impl,
  });
  const { history } = await trainModel({
    model,
    train,
    validation,
    epochs,
    batchSize,
    seed,
    onEpochEnd: (log) => {
      if (!args.json) console.error(`${impl} epoch ${log.epoch}: val_accuracy ${log.val_accuracy.toFixed(4)}, ${log.samplesPerSec.toFixed(0)} samples/s`);
    },
  });
  results[impl] = history;
  model.dispose();
}

const summary = {
  backend: info.backend,
  trainN: train.n,
  validationN: validation.n,
  epochs,
  stock: results['stock']!.map((h) => ({ epoch: h.epoch, val_accuracy: h.val_accuracy, val_loss: h.val_loss, samplesPerSec: h.samplesPerSec })),
  fused: results['fused']!.map((h) => ({ epoch: h.epoch, val_accuracy: h.val_accuracy, val_loss: h.val_loss, samplesPerSec: h.samplesPerSec })),
  finalValAccuracyDiff: results['fused']!.at(-1)!.val_accuracy - results['stock']!.at(-1)!.val_accuracy,
};
if (args.json) console.log(JSON.stringify(summary));
else console.log(JSON.stringify(summary, null, 2));
