// The report page's script is a classic script (no imports: it runs inline, after the inlined ECharts), so it reads
// the embedded data through ambient types of its own (browser/page-data.d.ts) rather than ReportData. This file makes
// `tsc -b` fail when the two drift apart: ReportData must fit PageData, and every field PageData names, at any depth,
// must exist in ReportData (an optional field renamed on one side only would otherwise pass unnoticed). Types only.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- an ambient script file cannot be imported
/// <reference path="./browser/page-data.d.ts" />
import type { ReportData } from './report-data.js';

/**
 * The field names `P` uses that `D` lacks, at any depth (through arrays, tuples and null), as a union of names; never
 * when there are none. Index signatures (`Record<string, …>`) name no field.
 */
type MissingFields<P, D> = P extends readonly (infer PE)[]
  ? D extends readonly (infer DE)[]
    ? MissingFields<PE, DE>
    : never
  : P extends object
    ? string extends keyof P
      ? never
      : D extends object
        ? Exclude<keyof P, keyof D> | { [K in keyof P & keyof D]-?: MissingFields<NonNullable<P[K]>, NonNullable<D[K]>> }[keyof P & keyof D]
        : never
    : never;

type Fits<T extends PageData> = T;
type None<T extends never> = T;

/** Fails to compile with the mismatching field when ReportData does not fit the page's view of it. */
export type ReportDataFitsPage = Fits<ReportData>;
/** Fails to compile naming the field when the page reads one that ReportData does not have. */
export type PageReadsNoMissingField = None<MissingFields<PageData, ReportData>>;
