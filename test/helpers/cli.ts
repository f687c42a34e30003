import { execFile } from 'node:child_process';
import { join } from 'node:path';

const cliBin = join(import.meta.dirname, '..', '..', 'services', 'cli', 'bin', 'sweepq.js');

/**
 * Run the real `sweepq` CLI in a child process. Asynchronous on purpose: the test process hosts the
 * S3-protocol server, which must keep answering while the CLI runs.
 */
export function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliBin, ...args],
      { env: { ...process.env, ...env, SWEEPQ_FROM_SOURCE: '1' }, encoding: 'utf8', timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code ?? null) : 0;
        resolve({ status: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}
