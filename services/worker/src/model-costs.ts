import { encodeTexts, trialVocabulary } from '@sweepq/data';
import { LATENCY_RUNS, medianLatencyMs, paramCount, savedBytes, serializeModel, WEIGHTS_FILE, type tf } from '@sweepq/model';
import type { TrialCosts } from '@sweepq/results';
import type { TrialParams } from '@sweepq/sweep-config';
import { jsonBody } from '@sweepq/storage';
import type { ShardedDataset } from './dataset-cache.js';

/** One file of a saved model, as uploaded. */
export interface ModelFile {
  name: 'model.json' | typeof WEIGHTS_FILE | 'vocab.json';
  body: string | Uint8Array;
  contentType: string;
}

/**
 * A trained model's files as they will be uploaded (model.json, weights.bin, vocab.json: what best/ holds) and what it
 * costs: their bytes, its parameters, and the median time to tokenize and classify one validation text (test or
 * training texts when the validation split is empty), with the vocabulary the files hold.
 */
export async function savedModelAndCosts(model: tf.LayersModel, prepared: ShardedDataset, params: Pick<TrialParams, 'max_words' | 'max_len'>): Promise<{ files: ModelFile[]; costs: TrialCosts }> {
  const artifacts = await serializeModel(model);
  const vocab = trialVocabulary(prepared.meta, { maxWords: params.max_words, maxLen: params.max_len });
  const files: ModelFile[] = [
    { name: 'model.json', body: jsonBody(artifacts.modelJson), contentType: 'application/json' },
    { name: WEIGHTS_FILE, body: artifacts.weights, contentType: 'application/octet-stream' },
    { name: 'vocab.json', body: jsonBody(vocab), contentType: 'application/json' },
  ];
  let texts: string[] = [];
  for (const split of ['validation', 'test', 'train'] as const) {
    if (texts.length === 0) texts = await prepared.sampleTexts(split, LATENCY_RUNS);
  }
  return {
    files,
    costs: {
      model_bytes: savedBytes(files.map((f) => f.body)),
      param_count: paramCount(model),
      latency_ms: await medianLatencyMs(model, texts, (text) => encodeTexts(vocab, [text])),
    },
  };
}
