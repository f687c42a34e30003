import { writeSyntheticCsv } from '@sweepq/data';
for (const rows of [1_000_000, 3_600_000]) {
  await writeSyntheticCsv(`/tmp/data2-bench/zipf-${rows}.csv`, { rows, classes: 3, vocabulary: 100_000, words: [5, 120], seed: 1 });
  console.log('done', rows);
}
