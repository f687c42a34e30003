import { z } from 'zod';
import { formatZodIssues } from '@sweepq/runtime/zod-issues';
import { DatasetError, DatasetErrorCode } from './errors.js';
import { checkInt } from './pad.js';
import type { PreparedDataset, TrialEncoding } from './prepared.js';
import { textToWordSequence } from './tokenizer.js';

/**
 * `vocab.json` saved next to a trained model: everything needed to turn new text into model input with the Keras
 * rules, without this package (see {@link encodeTexts} for the exact steps).
 */
export interface TrialVocabulary {
  format: 'sweepq-vocab/1';
  /** Word -> index, only indices `< num_words`. */
  word_index: Record<string, number>;
  num_words: number;
  max_len: number;
  padding: 'pre';
  truncating: 'pre';
  lower: boolean;
  filters: string;
  split: string;
  /** Class names in output order: softmax unit `i` is `classes[i]`. */
  classes: string[];
  oov_token: null;
}

/** The vocabulary a trial with these `maxWords`/`maxLen` was trained with. */
export function trialVocabulary(p: Pick<PreparedDataset, 'words' | 'tokenizer' | 'classes'>, opts: TrialEncoding): TrialVocabulary {
  const maxWords = checkInt('max_words', opts.maxWords, 1);
  const maxLen = checkInt('max_len', opts.maxLen, 1);
  // A null prototype keeps words like "__proto__" or "constructor" ordinary keys.
  const wordIndex = Object.create(null) as Record<string, number>;
  const keep = Math.min(p.words.length, maxWords - 1);
  for (let i = 0; i < keep; i++) wordIndex[p.words[i] as string] = i + 1;
  return {
    format: 'sweepq-vocab/1',
    word_index: wordIndex,
    num_words: maxWords,
    max_len: maxLen,
    padding: 'pre',
    truncating: 'pre',
    lower: p.tokenizer.lower,
    filters: p.tokenizer.filters,
    split: p.tokenizer.split,
    classes: [...p.classes],
    oov_token: null,
  };
}

const vocabSchema = z.object({
  format: z.literal('sweepq-vocab/1'),
  word_index: z.record(z.string(), z.number().int().min(1)),
  num_words: z.number().int().min(1),
  max_len: z.number().int().min(1),
  padding: z.literal('pre'),
  truncating: z.literal('pre'),
  lower: z.boolean(),
  filters: z.string(),
  split: z.string().min(1),
  classes: z.array(z.string()),
  oov_token: z.null(),
});

const lookupCache = new WeakMap<object, Map<string, number>>();

/**
 * Inference-time preprocessing from `vocab.json` content alone: Keras `text_to_word_sequence` (lower-case, replace
 * each `filters` character with `split`, split, drop empties), look words up in `word_index` (unknown words and
 * indices `>= num_words` are dropped), keep the last `max_len`, left-pad with 0. Equals {@link encodeForTrial} for
 * the same texts. Throws `DATASET_CORRUPT` if `vocab` is not a valid vocabulary.
 *
 * @returns row-major `[texts.length, max_len]`
 */
export function encodeTexts(vocab: TrialVocabulary, texts: string[]): Int32Array {
  let lookup = lookupCache.get(vocab);
  if (lookup === undefined) {
    const parsed = vocabSchema.safeParse(vocab, { reportInput: true });
    if (!parsed.success) {
      const issues = formatZodIssues(parsed.error.issues).join('; ');
      throw new DatasetError(DatasetErrorCode.CORRUPT, `vocab.json: not a sweepq-vocab/1 vocabulary: ${issues}`);
    }
    lookup = new Map(Object.entries(vocab.word_index));
    lookupCache.set(vocab, lookup);
  }
  const { num_words: numWords, max_len: maxLen } = vocab;
  const x = new Int32Array(texts.length * maxLen);
  texts.forEach((text, r) => {
    const ids: number[] = [];
    for (const w of textToWordSequence(text, vocab.filters, vocab.lower, vocab.split)) {
      const id = lookup.get(w);
      if (id !== undefined && id < numWords) ids.push(id);
    }
    const keep = Math.min(ids.length, maxLen);
    const rowEnd = (r + 1) * maxLen;
    for (let j = 0; j < keep; j++) x[rowEnd - keep + j] = ids[ids.length - keep + j] as number;
  });
  return x;
}
