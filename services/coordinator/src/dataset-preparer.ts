import { DatasetError, loadDataset, prepareDataset, preparedHash, serializePrepared } from '@sweepq/data';
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
  const raw = await loadDataset(
    {
      uri: spec.uri,
      format: spec.format,
      textField: spec.text_field,
      labelField: spec.label_field,
      maxRows: spec.max_rows,
    },
    (uri) => store.getUri(uri),
  );
  const prepared = prepareDataset(raw, {
    validationSplit: spec.validation_split,
    testSplit: spec.test_split,
    seed: spec.seed,
    uri: spec.uri,
  });
  if (prepared.splits.train.labels.length === 0 || prepared.splits.validation.labels.length === 0) {
    throw new DatasetError(
      'DATASET_EMPTY',
      `${spec.uri}: ${raw.texts.length} rows leave an empty train or validation split; provide more rows or change dataset.validation_split`,
    );
  }
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
