/**
 * Architecture variants named on the benchmarks' command lines (`--variants lstm,bigru-mask,...`): an optional `bi`
 * (Bidirectional), the cell `lstm` or `gru`, an optional `-xN` (N stacked layers) and an optional `-mask`
 * (Embedding `mask_zero`). `lstm` is the seed model.
 */
import type { ModelParams } from '../src/index.js';

/** The fields of {@link ModelParams} a variant sets. */
export type VariantParams = Required<Pick<ModelParams, 'cell' | 'lstmLayers' | 'bidirectional' | 'maskZero'>>;

export interface Variant extends VariantParams {
  name: string;
}

const PATTERN = /^(bi)?(lstm|gru)(?:-x([1-9]\d*))?(-mask)?$/;

/** The variants the issue names, in the order the tables list them. */
export const STANDARD_VARIANTS = ['lstm', 'lstm-x2', 'bilstm', 'gru', 'bigru', 'bilstm-x2', 'lstm-mask', 'bigru-mask'] as const;

/** One variant name parsed, or an error message saying what a name looks like. */
export function parseVariant(name: string): Variant | string {
  const m = PATTERN.exec(name);
  if (m == null) {
    return `expected [bi](lstm|gru)[-xN][-mask] (e.g. ${STANDARD_VARIANTS.join(', ')}), got ${JSON.stringify(name)}`;
  }
  return { name, bidirectional: m[1] != null, cell: m[2] as 'lstm' | 'gru', lstmLayers: m[3] != null ? Number(m[3]) : 1, maskZero: m[4] != null };
}

/**
 * `--variants`' comma-separated list (`all` for {@link STANDARD_VARIANTS}); a bad name prints what was expected and
 * exits 2 (usage error).
 */
export function parseVariants(list: string): Variant[] {
  const names = list === 'all' ? [...STANDARD_VARIANTS] : list.split(',').filter((s) => s !== '');
  if (names.length === 0) {
    console.error(`--variants: expected a comma-separated list such as ${STANDARD_VARIANTS.join(',')} (or all), got ${JSON.stringify(list)}`);
    process.exit(2);
  }
  return names.map((n) => {
    const v = parseVariant(n);
    if (typeof v === 'string') {
      console.error(`--variants: ${v}`);
      process.exit(2);
    }
    return v;
  });
}

/** The variant's model fields, to spread into {@link ModelParams}. */
export function variantParams(v: Variant): VariantParams {
  return { cell: v.cell, lstmLayers: v.lstmLayers, bidirectional: v.bidirectional, maskZero: v.maskZero };
}
