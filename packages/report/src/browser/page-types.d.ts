// What the report page's script reads: the JSON that render.ts embeds (ReportData in ../report-data.ts, as plain
// JSON) and the slice of ECharts' API it calls. Ambient, so report-page.ts stays a classic script without imports.

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
}

/** A chart's tooltip or label formatter argument (ECharts' CallbackDataParams, the fields used here). */
interface ChartItem<V = unknown> {
  name: string;
  seriesName: string;
  value: V;
}

interface ChartRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The slice of ECharts' custom-series API that the timeline's renderItem uses. */
interface ChartRenderApi {
  value(dim: number): number;
  coord(point: [number, number]): [number, number];
  size(delta: [number, number]): [number, number];
  style(): object;
}

interface ChartInstance {
  setOption(option: object, notMerge?: boolean): void;
  resize(): void;
}

/** ECharts, inlined into the page ahead of this script. */
declare const echarts: {
  init(node: HTMLElement, theme: null, opts: { renderer: 'canvas' | 'svg' }): ChartInstance;
  graphic: { clipRectByRect(rect: ChartRect, clip: ChartRect): ChartRect | undefined };
};

interface Window {
  /** Milliseconds per part of the page's work, read by the report benchmark. */
  __sweepqTimings?: Record<string, number>;
}
