import type { DatasetSpec } from '@sweepq/sweep-config';
import { describe, expect, it } from 'vitest';
import { checkDatasetHead, describeDataset, loadCheckedDataset } from '../src/index.js';
import { failure, tempFiles } from './helpers.js';

const file = tempFiles('sweepq-head-');
const spec = (uri: string): DatasetSpec => ({ uri, text_field: 'text', label_field: 'label', validation_split: 0.2, test_split: 0.1, seed: 42 });

describe('checkDatasetHead', () => {
  it('checks a dataset that fits in the head exactly as loadCheckedDataset does', async () => {
    const p = await file('small.csv', `text,label\n${Array.from({ length: 30 }, (_, i) => `row ${i},${['a', 'b', 'c'][i % 3]}`).join('\n')}\n`);
    expect(await checkDatasetHead(spec(p))).toEqual((await loadCheckedDataset(spec(p))).summary);
    const two = await file('two.csv', 'text,label\nx,a\ny,b\n');
    const [head, whole] = [await failure(checkDatasetHead(spec(two))), await failure(loadCheckedDataset(spec(two)))];
    expect([head.code, head.message]).toEqual([whole.code, whole.message]);
  });

  it('reads only the head of a large stream: a file sorted by class is not one class, and the summary says partial', async () => {
    const body = new TextEncoder().encode(`text,label\n${'some words here,a\n'.repeat(50_000)}${'other words,b\n'.repeat(50_000)}`);
    let pulled = 0;
    const pieces = async function* (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < body.length; i += 16_384, pulled++) yield body.subarray(i, i + 16_384);
    };
    const s = await checkDatasetHead(spec('s3://bucket/sorted.csv'), async () => pieces(), 1000);
    expect(s.partial).toBe(true);
    expect(s.rows).toBe(1000);
    expect(s.classCounts).toEqual({ a: 1000 });
    expect(pulled).toBeLessThan(Math.ceil(body.length / 16_384) / 4);
    expect(describeDataset(s)).toBe(
      'first 1000 rows checked (more follow; the coordinator checks them all), 1 classes so far (a 1000); CSV by extension; header row; text column "text", label column "label"',
    );
  });

  it('names a bad row inside the head', async () => {
    const p = await file('bad.csv', `text,label\n${'ok,a\nok,b\n'.repeat(100)} ,a\n${'ok,a\n'.repeat(5000)}`);
    const e = await failure(checkDatasetHead(spec(p), undefined, 1000));
    expect(e.message).toMatch(/bad\.csv: row 201 \(line 202\): column "text" is empty/);
  });
});
