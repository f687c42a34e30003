/** Optimizers the model package builds (tfjs names). */
export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Recurrent cells the model stacks (Keras `LSTM` and `GRU`). */
export const CELLS = ['lstm', 'gru'] as const;
export type CellName = (typeof CELLS)[number];

/** What values a parameter accepts. Upper bounds on integers keep a hostile or mistyped spec from asking workers for absurd models. */
export type ParameterRule =
  | { readonly type: 'int'; readonly min: number; readonly max: number }
  | { readonly type: 'float'; readonly min: number; readonly minExclusive: boolean; readonly max: number; readonly maxExclusive: boolean }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | { readonly type: 'bool' };

/** The values a rule admits, as a type: numbers, booleans, or the union of an enum's values. */
export type RuleValue<R extends ParameterRule> = R extends { readonly type: 'enum'; readonly values: readonly (infer V)[] }
  ? V
  : R extends { readonly type: 'bool' }
    ? boolean
    : number;

/** One row of {@link PARAMETERS}. */
export interface ParameterDefinition {
  readonly rule: ParameterRule;
  readonly default: number | string | boolean;
  readonly doc: string;
  /**
   * The `ModelParams` field of `@sweepq/model` this parameter sets (its `modelParamsFromTrial` copies every row that
   * names one; the model side type-checks the names). Absent for parameters the model does not read (training-loop
   * settings such as `batch_size`).
   */
  readonly model?: string;
  /**
   * Added after sweepq's first record formats (`sweepq.spec/1`, the first trial payloads and result files): a record or
   * job payload without it means its default, which keeps the model as it was before the parameter existed. The spec
   * hash writes such a parameter only when a spec sets it to something else, and the job payload schema fills it in
   * when a job queued before an upgrade lacks it.
   */
  readonly addedLater?: true;
}

/**
 * The one definition of every hyperparameter: its rule (type and bounds), default, and what it means. The spec's
 * validation, the job payload's schema (`@sweepq/queue`), the defaults and docs/spec.md's parameter table are all derived
 * from this table; adding a parameter means adding a row here (and teaching the model to use it). Order is the
 * order random search draws in and trial params are listed in: append, never reorder.
 */
export const PARAMETERS = {
  max_words: { rule: { type: 'int', min: 2, max: 1_000_000 }, default: 10000, doc: "tokenizer vocabulary size (Keras `num_words`); index 0 is padding", model: 'maxWords' },
  max_len: { rule: { type: 'int', min: 1, max: 10_000 }, default: 100, doc: 'sequence length after padding/truncation (Keras `maxlen`)', model: 'maxLen' },
  embedding_dim: { rule: { type: 'int', min: 1, max: 4096 }, default: 64, doc: 'embedding width (`Embedding(output_dim)`)', model: 'embeddingDim' },
  lstm_units: { rule: { type: 'int', min: 1, max: 4096 }, default: 64, doc: 'units of each recurrent layer (per direction when bidirectional)', model: 'lstmUnits' },
  dropout: { rule: { type: 'float', min: 0, minExclusive: false, max: 1, maxExclusive: true }, default: 0, doc: 'dropout on the recurrent layers\' inputs (also a Dropout layer after the embedding)', model: 'dropout' },
  recurrent_dropout: { rule: { type: 'float', min: 0, minExclusive: false, max: 1, maxExclusive: true }, default: 0, doc: 'dropout on the recurrent state', model: 'recurrentDropout' },
  learning_rate: { rule: { type: 'float', min: 0, minExclusive: true, max: Infinity, maxExclusive: true }, default: 0.001, doc: 'optimizer learning rate', model: 'learningRate' },
  optimizer: { rule: { type: 'enum', values: OPTIMIZERS }, default: 'adam', doc: 'tfjs optimizer', model: 'optimizer' },
  batch_size: { rule: { type: 'int', min: 1, max: 65_536 }, default: 32, doc: 'training batch size' },
  epochs: { rule: { type: 'int', min: 1, max: 10_000 }, default: 3, doc: 'training epochs (the budget early termination counts in)' },
  lstm_layers: { rule: { type: 'int', min: 1, max: 4 }, default: 1, doc: 'stacked recurrent layers (all but the last return sequences)', model: 'lstmLayers', addedLater: true },
  bidirectional: { rule: { type: 'bool' }, default: false, doc: "each recurrent layer wrapped in `Bidirectional(merge_mode='concat')`", model: 'bidirectional', addedLater: true },
  cell: { rule: { type: 'enum', values: CELLS }, default: 'lstm', doc: 'recurrent cell: Keras `LSTM` or `GRU` (`reset_after=False`)', model: 'cell', addedLater: true },
  mask_zero: { rule: { type: 'bool' }, default: false, doc: '`Embedding(mask_zero=True)`: padding (token 0) steps are skipped', model: 'maskZero', addedLater: true },
} as const satisfies Record<string, ParameterDefinition>;

export type ParameterName = keyof typeof PARAMETERS;

/** Every hyperparameter a trial can have; the only names allowed under `parameters:`. */
export const PARAMETER_NAMES = Object.keys(PARAMETERS) as ParameterName[];

/** The concrete hyperparameters of one trial, each typed by its rule (numbers, booleans, an enum's values). */
export type TrialParams = { -readonly [K in ParameterName]: RuleValue<(typeof PARAMETERS)[K]['rule']> };

/** Parameters whose row names a model field (see {@link ParameterDefinition.model}). */
export type ModelParameterName = { [K in ParameterName]: (typeof PARAMETERS)[K] extends { readonly model: string } ? K : never }[ParameterName];

/** The model field parameter `K` sets. */
export type ModelFieldOf<K extends ModelParameterName> = (typeof PARAMETERS)[K]['model'];

/** Parameter -> the model field it sets, for every parameter the model reads (from {@link PARAMETERS}). */
export const MODEL_FIELDS: { readonly [K in ModelParameterName]: ModelFieldOf<K> } = Object.fromEntries(
  PARAMETER_NAMES.flatMap((n) => {
    const row: ParameterDefinition = PARAMETERS[n];
    return row.model === undefined ? [] : [[n, row.model]];
  }),
) as { readonly [K in ModelParameterName]: ModelFieldOf<K> };

/** Values used for every parameter a spec does not mention. */
export const DEFAULT_PARAMS: Readonly<TrialParams> = Object.freeze(
  Object.fromEntries(PARAMETER_NAMES.map((n) => [n, PARAMETERS[n].default])) as unknown as TrialParams,
);

/**
 * `params` with every parameter it lacks set to its default. For records written before a parameter existed (results,
 * plans of older sweeps): those trials trained with the default, since a new parameter's default keeps the model as it
 * was. Parameters present are kept as they are, unknown keys dropped.
 */
export function withDefaultParams(params: Readonly<Record<string, unknown>>): TrialParams {
  return Object.fromEntries(PARAMETER_NAMES.map((n) => [n, Object.hasOwn(params, n) ? params[n] : DEFAULT_PARAMS[n]])) as unknown as TrialParams;
}

/** Whether a parameter was added after the first record formats (see `ParameterDefinition.addedLater`). */
export function addedLater(name: ParameterName): boolean {
  return (PARAMETERS[name] as ParameterDefinition).addedLater === true;
}

/** Each parameter's rule (from {@link PARAMETERS}). */
export const PARAMETER_RULES: { readonly [K in ParameterName]: ParameterRule } = Object.fromEntries(
  PARAMETER_NAMES.map((n) => [n, PARAMETERS[n].rule]),
) as { readonly [K in ParameterName]: ParameterRule };

/** docs/spec.md's parameter table, generated from {@link PARAMETERS} (a test checks docs/spec.md contains it). */
export function parameterTable(): string {
  const rows = ['| parameter | default | allowed | meaning |', '| --- | --- | --- | --- |'];
  for (const n of PARAMETER_NAMES) rows.push(`| \`${n}\` | ${PARAMETERS[n].default} | ${describeRule(PARAMETERS[n].rule)} | ${PARAMETERS[n].doc} |`);
  return rows.join('\n');
}

/** Human description of a rule, used in messages: "an integer in [1, 4096]", "a number in [0, 1)", "a number > 0". */
export function describeRule(rule: ParameterRule): string {
  switch (rule.type) {
    case 'int':
      return `an integer in [${rule.min}, ${rule.max}]`;
    case 'enum':
      return `one of ${rule.values.join(', ')}`;
    case 'bool':
      return 'true or false';
    case 'float': {
      if (rule.max === Infinity) return `a number ${rule.minExclusive ? '>' : '>='} ${rule.min}`;
      return `a number in ${rule.minExclusive ? '(' : '['}${rule.min}, ${rule.max}${rule.maxExclusive ? ')' : ']'}`;
    }
  }
}

/** Whether a single value satisfies a rule. */
export function valueSatisfies(rule: ParameterRule, value: unknown): boolean {
  switch (rule.type) {
    case 'enum':
      return typeof value === 'string' && rule.values.includes(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= rule.min && value <= rule.max;
    case 'float':
      return (
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (rule.minExclusive ? value > rule.min : value >= rule.min) &&
        (rule.maxExclusive ? value < rule.max : value <= rule.max)
      );
  }
}
