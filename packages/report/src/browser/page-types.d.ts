// The slice of ECharts' API that the report page's script calls (the data it reads is in page-data.d.ts). Ambient, so
// report-page.ts stays a classic script without imports.

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
  /** Actions used: `showTip`/`hideTip` (a point's tooltip) and `highlight`/`downplay`, for keyboard access. */
  dispatchAction(action: { type: string; seriesIndex?: number; dataIndex?: number }): void;
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
