import { loadCheckedDataset, prepareDataset, preparedHash, serializePrepared } from '@sweepq/data';
import type { Logger } from '@sweepq/runtime';
import type { DatasetSpec } from '@sweepq/spec';
import { layout, type ArtifactStore } from '@sweepq/storage';
import type { SweepRecord } from '@sweepq/results';

/**
 * Load, tokenize, split and encode the sweep's dataset once, and store it in the bucket under its content
 * hash. Trials apply their own max_words/max_len to these arrays (Keras' num_words only filters at encoding).
 */
export async function prepareSweepDataset(
  spec: DatasetSpec,
  store: ArtifactStore,
  log: Logger,
): Promise<NonNullable<SweepRecord['dataset']>> {
  const t0 = Date.now();
  // The same checks `sweepq submit` runs before enqueueing (one owner of the dataset rules).
  const { raw } = await loadCheckedDataset(spec, (uri) => store.getUri(uri));
  const prepared = prepareDataset(raw, {
    validationSplit: spec.validation_split,
    testSplit: spec.test_split,
    seed: spec.seed,
    uri: spec.uri,
  });
  const bytes = serializePrepared(prepared);
  const hash = preparedHash(bytes);
  const key = layout.preparedDataset(hash);
  if (!(await store.exists(key))) await store.put(key, bytes);
  const counts = Object.values(prepared.source.classCounts);
  const total = counts.reduce((a, b) => a + b, 0);
  const info = {
    uri: spec.uri,
    key,
    hash,
    classes: prepared.classes,
    rows: prepared.source.rows,
    classCounts: prepared.source.classCounts,
    sizes: {
      train: prepared.splits.train.labels.length,
      validation: prepared.splits.validation.labels.length,
      test: prepared.splits.test.labels.length,
    },
    vocabulary: prepared.words.length,
    majorityRate: total > 0 ? Math.max(...counts) / total : 0,
  };
  log.info({ ...info, ms: Date.now() - t0 }, 'dataset prepared');
  return info;
}
