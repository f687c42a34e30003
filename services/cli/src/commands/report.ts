import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Command } from 'commander';
import { ReportError, collectReportData, renderReport } from '@sweepq/report';
import { isFinalSweepState, type SweepRecord } from '@sweepq/results';
import { StorageError, StorageErrorCode, assertSafeId, layout, type ArtifactStore } from '@sweepq/storage';
import { withContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';

/** Longest expiry a SigV4 presigned URL allows: 7 days. */
export const MAX_URL_EXPIRY_SEC = 7 * 24 * 3600;

/** `3600`, `90s`, `30m`, `12h`, `7d` -> seconds, within 1 s .. 7 days. */
export function parseExpiry(text: string): number {
  const m = /^(\d+)\s*([smhd]?)$/i.exec(text.trim());
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[(m?.[2] ?? '').toLowerCase() as '' | 's' | 'm' | 'h' | 'd'];
  const sec = m ? Number(m[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(sec) || sec < 1 || sec > MAX_URL_EXPIRY_SEC) {
    throw new CliError(`--expires: expected a duration from 1s to 7d such as 3600, 30m, 12h or 7d, got "${text}"`, ExitCode.Usage);
  }
  return sec;
}

/** A presigned GET URL for a store key, valid `expiresIn` seconds, so someone without credentials can open it. */
export async function presignedUrl(store: ArtifactStore, key: string, expiresIn: number): Promise<string> {
  return getSignedUrl(store.client, new GetObjectCommand({ Bucket: store.bucket, Key: store.fullKey(key), ResponseContentType: 'text/html; charset=utf-8' }), {
    expiresIn,
  });
}

/** Options of `sweepq report`. */
export interface ReportCommandOptions {
  out?: string;
  open?: boolean;
  regenerate?: boolean;
  upload?: boolean;
  url?: boolean;
  expires?: string;
  json?: boolean;
}

/** What `sweepq report` did. */
export interface ReportCommandResult {
  sweepId: string;
  key: string;
  uri: string;
  regenerated: boolean;
  uploaded: boolean;
  bytes: number;
  file?: string;
  url?: string;
  expiresAt?: string;
}

/**
 * Fetch `sweeps/<id>/report.html`, or build it from the bucket's data when it does not exist yet or `regenerate` is
 * set (and upload it unless `upload` is false; a bucket that refuses the write only costs the upload). Then write it
 * to `out` (default `./<id>-report.html` unless only a URL was asked for) and/or presign a URL.
 */
export async function reportCommand(store: ArtifactStore, sweepId: string, opts: ReportCommandOptions): Promise<ReportCommandResult> {
  try {
    assertSafeId(sweepId, 'sweep id');
  } catch (err) {
    throw new CliError((err as Error).message, ExitCode.Usage);
  }
  const expiresIn = opts.url ? parseExpiry(opts.expires ?? '1h') : 0;
  const key = layout.reportHtml(sweepId);
  let body = opts.regenerate ? undefined : await store.get(key);
  let regenerated = false;
  let uploaded = false;
  if (body === undefined) {
    const sweep = await store.getJson<SweepRecord>(layout.sweepJson(sweepId));
    if (!sweep) throw new CliError(`no sweep "${sweepId}" in ${store.uri('sweeps/')}`, ExitCode.Failure);
    let data;
    try {
      data = await collectReportData(store, sweepId, { final: isFinalSweepState(sweep.state), cache: false });
    } catch (err) {
      if (err instanceof ReportError) throw new CliError(err.message, ExitCode.Failure);
      throw err;
    }
    body = new TextEncoder().encode(renderReport(data));
    regenerated = true;
    if (opts.upload !== false) {
      try {
        await store.put(key, body, 'text/html; charset=utf-8');
        uploaded = true;
      } catch (err) {
        if (opts.url || !(err instanceof StorageError) || err.code !== StorageErrorCode.AccessDenied) throw err;
        process.stderr.write(`sweepq: could not upload the report (${err.message}); keeping the local copy only\n`);
      }
    }
  }
  const out: ReportCommandResult = { sweepId, key, uri: store.uri(key), regenerated, uploaded, bytes: body.byteLength };
  const file = opts.out ?? (opts.url ? undefined : `${sweepId}-report.html`);
  if (file) {
    const path = resolve(file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
    out.file = path;
  }
  if (opts.url) {
    out.url = await presignedUrl(store, key, expiresIn);
    out.expiresAt = new Date(Date.now() + expiresIn * 1000).toISOString();
  }
  return out;
}

function openInBrowser(target: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [target]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', target]] : ['xdg-open', [target]];
  const child = spawn(cmd, args, { detached: true, stdio: 'ignore' });
  child.on('error', () => process.stderr.write(`sweepq: could not start ${cmd}; open ${target} yourself\n`));
  child.unref();
}

/** Register `sweepq report`. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description("get a sweep's HTML report (fetched from the bucket, or built from its data) to a file or as a presigned URL")
    .argument('<sweepId>')
    .option('--out <file>', 'where to write the report (default: ./<sweepId>-report.html; with --url only: no file)')
    .option('--open', 'open it in the default browser')
    .option('--regenerate', "rebuild it from the bucket's current data (and upload it) instead of fetching the stored copy")
    .option('--no-upload', 'with a rebuilt report: do not write it back to the bucket')
    .option('--url', 'print a presigned URL of the report in the bucket, for someone without bucket credentials')
    .option('--expires <duration>', 'validity of the --url: seconds, or 30m, 12h, 7d (at most 7d)', '1h')
    .option('--json', 'print JSON')
    .action(async (sweepId: string, opts: ReportCommandOptions) => {
      if (!opts.url && opts.expires !== '1h') throw new CliError('--expires only applies with --url', ExitCode.Usage);
      const r = await withContext(
        async (ctx) => {
          if (!ctx.local || !opts.url) return reportCommand(ctx.store, sweepId, opts);
          // The demo's embedded S3 server stops with this command, so a presigned URL to it would be dead on arrival:
          // hand out the report as a local file instead.
          parseExpiry(opts.expires ?? '1h');
          const local = await reportCommand(ctx.store, sweepId, { ...opts, url: false, out: opts.out ?? `${sweepId}-report.html` });
          process.stderr.write("sweepq: the demo's bucket is served only while a command runs: a file URL instead of a presigned one\n");
          return { ...local, url: pathToFileURL(local.file ?? '').href };
        },
        { redis: 'none' },
      );
      if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else {
        const lines = [
          `${r.regenerated ? 'built' : 'fetched'} ${r.uri} (${(r.bytes / 1024).toFixed(0)} KiB)${r.uploaded ? ', uploaded' : ''}`,
          r.file ? `written to ${r.file}` : '',
          r.url ? (r.expiresAt ? `presigned URL (valid until ${r.expiresAt}):\n${r.url}` : r.url) : '',
        ];
        process.stdout.write(`${lines.filter(Boolean).join('\n')}\n`);
      }
      if (opts.open) openInBrowser(r.file ?? r.url ?? '');
    });
}
