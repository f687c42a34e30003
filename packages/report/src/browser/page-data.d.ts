// What the report page's script reads: the JSON that render.ts embeds (ReportData in ../report-data.ts, as plain
// JSON). Ambient, so report-page.ts stays a classic script without imports; ../page-data-agreement.ts checks at build
// time that ReportData fits these types and has every field they name, so the two cannot drift apart.

type PageValue = string | number | boolean | null | undefined;

interface PageCurve {
  epoch: number[];
  loss: (number | null)[];
  accuracy: (number | null)[];
  val_loss: (number | null)[];
  val_accuracy: (number | null)[];
}

interface PageTrial {
  trialId: string;
  state: string;
  rank: number | null;
  reason?: string;
  error?: string;
  metric: number | null;
  params: Record<string, PageValue>;
  final: { loss: number | null; accuracy: number | null; val_loss: number | null; val_accuracy: number | null } | null;
  testAccuracy: number | null;
  epochs: number;
  durationSec: number | null;
  samplesPerSec: number | null;
  backend: string | null;
  worker: string | null;
  attempt: number | null;
  curve: PageCurve;
  objectives?: (number | null)[];
  front?: number | null;
}

interface PageParameter {
  name: string;
  type: 'numeric' | 'categorical';
  log: boolean;
  varying: boolean;
  values?: (string | number)[];
}

interface PageEvaluation {
  split: string;
  accuracy: number;
  classes: string[];
  confusion: number[][];
  perClass: { label: string; precision: number | null; recall: number | null; f1: number | null; support: number }[];
}

interface PageSegment {
  trialId: string;
  worker: string;
  attempt: number;
  kind: 'first' | 'resume' | 'retry';
  start: number;
  end: number;
  fromEpoch: number;
  outcome: string;
  estimated: boolean;
}

interface PageObjective {
  name: string;
  goal: 'maximize' | 'minimize';
  log: boolean;
}

interface PagePareto {
  objectives: PageObjective[];
  size: number;
  pairs: { a: number; b: number; front: string[] }[];
}

interface PageData {
  sweepId: string;
  metric: { name: string; goal: 'maximize' | 'minimize' };
  parameters: PageParameter[];
  trials: PageTrial[];
  best: { trialId: string; metric: number | null; evaluation: PageEvaluation | null } | null;
  analysis: {
    importance: { quantile: number; trials: number; top: number; params: { name: string; importance: number }[] } | null;
    history: { byIndex: [number, number, number, string][]; byTime: [number, number, number, string][] };
    rungs: number[];
    earlyTerminate: string | null;
    timeline: { workers: string[]; segments: PageSegment[]; retries: { at: number; trials: string[] }[]; exact: boolean } | null;
  };
  pareto?: PagePareto;
}
