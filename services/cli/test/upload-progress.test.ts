import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { uploadProgressPrinter } from '../src/dataset-upload.js';

/** A stream that keeps what is written to it; `isTTY` as given. */
function sink(isTTY: boolean): { out: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { out: Object.assign(w, { isTTY }) as unknown as NodeJS.WriteStream, text: () => text };
}

describe('uploadProgressPrinter', () => {
  const MB = 1_000_000;
  it('off a TTY: one line per 10% step, whatever the number of progress events', async () => {
    const s = sink(false);
    const p = uploadProgressPrinter('d.csv', s.out, { minBytes: 0 });
    for (let sent = 0; sent <= 500 * MB; sent += 16 * MB) p(sent, 500 * MB);
    p(500 * MB, 500 * MB);
    await new Promise((r) => setImmediate(r));
    const lines = s.text().trim().split('\n');
    expect(lines[0]).toBe('uploading d.csv: 0% (0/500 MB)');
    expect(lines.at(-1)).toBe('uploading d.csv: 100% (500/500 MB)');
    expect(lines).toHaveLength(11);
  });

  it('on a TTY: one line rewritten in place, ended when done; quiet for a small file', async () => {
    const s = sink(true);
    const p = uploadProgressPrinter('d.csv', s.out);
    p(10 * MB, 40 * MB);
    p(40 * MB, 40 * MB);
    const small = sink(false);
    uploadProgressPrinter('s.csv', small.out)(1 * MB, 1 * MB);
    await new Promise((r) => setImmediate(r));
    expect(s.text()).toBe('\ruploading d.csv: 25% (10/40 MB)\ruploading d.csv: 100% (40/40 MB)\n');
    expect(small.text()).toBe('');
  });
});
