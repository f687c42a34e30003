import type { Command } from 'commander';
import { collectSweepIndex, formatMetric, formatTime, formatTrialCounts, type SweepIndex } from '@sweepq/report';
import { SweepState } from '@sweepq/results';
import type { ArtifactStore } from '@sweepq/storage';
import { withStore } from '../context.js';
import { CliError, ExitCode } from '../errors.js';

/** Options of `sweepq list`. */
export interface ListCommandOptions {
  json?: boolean;
  state?: string;
}

const STATES: readonly string[] = Object.values(SweepState);

/** Every sweep in the bucket (the same data as `sweeps/index.html`), optionally only those in one state. */
export async function listSweeps(store: ArtifactStore, opts: Pick<ListCommandOptions, 'state'> = {}): Promise<SweepIndex> {
  if (opts.state !== undefined && !STATES.includes(opts.state)) {
    throw new CliError(`--state: expected one of ${STATES.join(', ')}, got "${opts.state}"`, ExitCode.Usage);
  }
  const index = await collectSweepIndex(store);
  return opts.state === undefined ? index : { ...index, sweeps: index.sweeps.filter((s) => s.state === opts.state) };
}

/** The table `sweepq list` prints: id, name, state, trials (finished/total), best metric (4 significant digits), submitted. */
export function sweepTable(index: SweepIndex): string {
  if (index.sweeps.length === 0) return 'no sweeps';
  const rows = [
    ['SWEEP', 'NAME', 'STATE', 'TRIALS', 'BEST', 'SUBMITTED (UTC)'],
    ...index.sweeps.map((s) => [
      s.sweepId,
      (s.name ?? '').length > 40 ? `${(s.name ?? '').slice(0, 39)}…` : (s.name ?? ''),
      s.state,
      formatTrialCounts(s.trials),
      s.best ? `${formatMetric(s.best.value)}${s.metric ? ` ${s.metric.name}` : ''}` : '-',
      formatTime(s.submittedAt),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** Register `sweepq list`. */
export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('list every sweep in the bucket: id, name, state, trials, best metric, submitted (the data of sweeps/index.html)')
    .option('--state <state>', `only sweeps in this state (${STATES.join(', ')})`)
    .option('--json', 'print JSON')
    .action(async (opts: ListCommandOptions) => {
      const index = await withStore((store) => listSweeps(store, opts));
      process.stdout.write(opts.json ? `${JSON.stringify(index, null, 2)}\n` : `${sweepTable(index)}\n`);
    });
}
