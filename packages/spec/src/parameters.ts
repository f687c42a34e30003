/** Optimizers the model package builds (tfjs names). */
export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** What values a parameter accepts. Upper bounds on integers keep a hostile or mistyped spec from asking workers for absurd models. */
export type ParameterRule =
  | { readonly type: 'int'; readonly min: number; readonly max: number }
  | { readonly type: 'float'; readonly min: number; readonly minExclusive: boolean; readonly max: number; readonly maxExclusive: boolean }
  | { readonly type: 'enum'; readonly values: readonly string[] };

/**
 * The one definition of every hyperparameter: its rule (type and bounds), default, and what it means. The spec's
 * validation, the job payload's schema (`@sweepq/queue`), the defaults and README's parameter table are all derived
 * from this table; adding a parameter means adding a row here (and teaching the model to use it). Order is the
 * order random search draws in and trial params are listed in: append, never reorder.
 */
export const PARAMETERS = {
  max_words: { rule: { type: 'int', min: 2, max: 1_000_000 }, default: 10000, doc: "tokenizer vocabulary size (Keras `num_words`); index 0 is padding" },
  max_len: { rule: { type: 'int', min: 1, max: 10_000 }, default: 100, doc: 'sequence length after padding/truncation (Keras `maxlen`)' },
  embedding_dim: { rule: { type: 'int', min: 1, max: 4096 }, default: 64, doc: 'embedding width (`Embedding(output_dim)`)' },
  lstm_units: { rule: { type: 'int', min: 1, max: 4096 }, default: 64, doc: 'LSTM units' },
  dropout: { rule: { type: 'float', min: 0, minExclusive: false, max: 1, maxExclusive: true }, default: 0, doc: 'dropout on the LSTM inputs (after the embedding)' },
  recurrent_dropout: { rule: { type: 'float', min: 0, minExclusive: false, max: 1, maxExclusive: true }, default: 0, doc: 'dropout on the recurrent state' },
  learning_rate: { rule: { type: 'float', min: 0, minExclusive: true, max: Infinity, maxExclusive: true }, default: 0.001, doc: 'optimizer learning rate' },
  optimizer: { rule: { type: 'enum', values: OPTIMIZERS }, default: 'adam', doc: 'tfjs optimizer' },
  batch_size: { rule: { type: 'int', min: 1, max: 65_536 }, default: 32, doc: 'training batch size' },
  epochs: { rule: { type: 'int', min: 1, max: 10_000 }, default: 3, doc: 'training epochs (the budget early termination counts in)' },
} as const satisfies Record<string, { rule: ParameterRule; default: number | string; doc: string }>;

export type ParameterName = keyof typeof PARAMETERS;

/** Every hyperparameter a trial can have; the only names allowed under `parameters:`. */
export const PARAMETER_NAMES = Object.keys(PARAMETERS) as ParameterName[];

/** The concrete hyperparameters of one trial (numbers, and the optimizer's name). */
export type TrialParams = { [K in ParameterName]: (typeof PARAMETERS)[K]['rule'] extends { type: 'enum' } ? OptimizerName : number };

/** Values used for every parameter a spec does not mention. */
export const DEFAULT_PARAMS: Readonly<TrialParams> = Object.freeze(
  Object.fromEntries(PARAMETER_NAMES.map((n) => [n, PARAMETERS[n].default])) as unknown as TrialParams,
);

/** Each parameter's rule (from {@link PARAMETERS}). */
export const PARAMETER_RULES: { readonly [K in ParameterName]: ParameterRule } = Object.fromEntries(
  PARAMETER_NAMES.map((n) => [n, PARAMETERS[n].rule]),
) as { readonly [K in ParameterName]: ParameterRule };

/** README's parameter table, generated from {@link PARAMETERS} (a test checks README contains it). */
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
