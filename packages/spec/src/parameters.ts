/** Every hyperparameter a trial can have; the only names allowed under `parameters:`. */
export const PARAMETER_NAMES = [
  'max_words',
  'max_len',
  'embedding_dim',
  'lstm_units',
  'dropout',
  'recurrent_dropout',
  'learning_rate',
  'optimizer',
  'batch_size',
  'epochs',
] as const;

export type ParameterName = (typeof PARAMETER_NAMES)[number];

/** Optimizers the model package builds (tfjs names). */
export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** The concrete hyperparameters of one trial. */
export interface TrialParams {
  /** Tokenizer vocabulary size (Keras `num_words`); index 0 is padding, so at least 2. */
  max_words: number;
  /** Sequence length after padding/truncation (Keras `maxlen`). */
  max_len: number;
  /** Embedding width (Keras `Embedding(output_dim)`). */
  embedding_dim: number;
  /** LSTM units. */
  lstm_units: number;
  /** Dropout rate in [0, 1) on the LSTM inputs. */
  dropout: number;
  /** Recurrent dropout rate in [0, 1). */
  recurrent_dropout: number;
  /** Optimizer learning rate, > 0. */
  learning_rate: number;
  optimizer: OptimizerName;
  batch_size: number;
  epochs: number;
}

/** Values used for every parameter a spec does not mention. */
export const DEFAULT_PARAMS: Readonly<TrialParams> = Object.freeze({
  max_words: 10000,
  max_len: 100,
  embedding_dim: 64,
  lstm_units: 64,
  dropout: 0,
  recurrent_dropout: 0,
  learning_rate: 0.001,
  optimizer: 'adam',
  batch_size: 32,
  epochs: 3,
});

/** What values a parameter accepts. Upper bounds on integers keep a hostile or mistyped spec from asking workers for absurd models. */
export type ParameterRule =
  | { readonly type: 'int'; readonly min: number; readonly max: number }
  | { readonly type: 'float'; readonly min: number; readonly minExclusive: boolean; readonly max: number; readonly maxExclusive: boolean }
  | { readonly type: 'enum'; readonly values: readonly string[] };

export const PARAMETER_RULES: { readonly [K in ParameterName]: ParameterRule } = {
  max_words: { type: 'int', min: 2, max: 1_000_000 },
  max_len: { type: 'int', min: 1, max: 10_000 },
  embedding_dim: { type: 'int', min: 1, max: 4096 },
  lstm_units: { type: 'int', min: 1, max: 4096 },
  dropout: { type: 'float', min: 0, minExclusive: false, max: 1, maxExclusive: true },
  recurrent_dropout: { type: 'float', min: 0, minExclusive: false, max: 1, maxExclusive: true },
  learning_rate: { type: 'float', min: 0, minExclusive: true, max: Infinity, maxExclusive: true },
  optimizer: { type: 'enum', values: OPTIMIZERS },
  batch_size: { type: 'int', min: 1, max: 65_536 },
  epochs: { type: 'int', min: 1, max: 10_000 },
};

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
