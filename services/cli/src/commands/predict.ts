import type { Command } from 'commander';
import { formatSignificant } from '@sweepq/results';
import { withStore } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { isLocal, locateModel, type ModelFiles } from '../model-files.js';

/** One classified text. */
export interface Prediction {
  text: string;
  label: string;
  /** Index of `label` in the model's classes. */
  index: number;
  /** Probability per class, in the model's class order. */
  probabilities: Record<string, number>;
}

/**
 * Classify texts with a saved model: the vocabulary's preprocessing (`encodeTexts`), then the model's softmax.
 * Loads TensorFlow.js only when called, so other commands start fast.
 */
export async function predictTexts(files: Pick<ModelFiles, 'modelJson' | 'weights' | 'vocab'>, texts: string[]): Promise<Prediction[]> {
  const [{ initBackend, deserializeModel, predictProbabilities }, { encodeTexts }] = await Promise.all([
    quietly(() => import('@sweepq/model')),
    import('@sweepq/data'),
  ]);
  await quietly(() => initBackend());
  let model: Awaited<ReturnType<typeof deserializeModel>>;
  try {
    model = await deserializeModel({ modelJson: files.modelJson, weights: files.weights });
  } catch (err) {
    throw new CliError(`cannot load the model: ${err instanceof Error ? err.message : String(err)}`, ExitCode.Failure);
  }
  try {
    const { classes, max_len: maxLen } = files.vocab;
    let x: Int32Array;
    try {
      x = encodeTexts(files.vocab, texts);
    } catch (err) {
      throw new CliError(`cannot use the model's vocab.json: ${err instanceof Error ? err.message : String(err)}`, ExitCode.Failure);
    }
    const probs = await predictProbabilities(model, x, texts.length, maxLen);
    const k = probs.length / Math.max(1, texts.length);
    if (k !== classes.length) {
      throw new CliError(`the model has ${k} outputs but vocab.json lists ${classes.length} classes`, ExitCode.Failure);
    }
    return texts.map((text, i) => {
      const row = Array.from(probs.subarray(i * k, (i + 1) * k));
      let index = 0;
      for (let j = 1; j < k; j++) if (row[j]! > row[index]!) index = j;
      return { text, label: classes[index]!, index, probabilities: Object.fromEntries(classes.map((c, j) => [c, row[j]!])) };
    });
  } finally {
    model.dispose();
  }
}

// tfjs prints hints ("install the node backend …") with console.log; keep stdout clean for --json.
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = (...args: unknown[]) => console.error(...args);
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

/** Human-readable lines for {@link Prediction}s. */
export function formatPredictions(preds: Prediction[]): string {
  return preds
    .map((p) => {
      const probs = Object.entries(p.probabilities)
        .sort((a, b) => b[1] - a[1])
        .map(([c, v]) => `${c} ${formatSignificant(v)}`)
        .join(', ');
      const text = p.text.length > 60 ? `${p.text.slice(0, 57)}…` : p.text;
      return `${p.label}\t${probs}\t${JSON.stringify(text)}`;
    })
    .join('\n');
}

async function readStdinLines(): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Register `sweepq predict`. */
export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description("classify texts with a sweep's best model (or --trial), an s3:// model folder, or a local one")
    .argument('<model>', 'sweep id, s3://bucket/…/model/ (or its model.json), or a local folder with model.json, weights.bin, vocab.json')
    .argument('<texts...>', 'texts to classify; "-" reads one text per line from stdin')
    .option('--trial <trialId>', "use this trial's model instead of the best (with a sweep id)")
    .option('--json', 'print JSON: the model used and, per text, label and probabilities')
    .action(async (target: string, texts: string[], opts: { trial?: string; json?: boolean }) => {
      const inputs = texts.length === 1 && texts[0] === '-' ? await readStdinLines() : texts;
      if (inputs.length === 0) throw new CliError('no text to classify', ExitCode.Usage);
      // A local model needs no bucket at all.
      const files = (await isLocal(target))
        ? await locateModel(undefined, target, opts.trial)
        : await withStore((store) => locateModel(store, target, opts.trial));
      const predictions = await predictTexts(files, inputs);
      const model = { ...files.source, classes: files.vocab.classes };
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ model, predictions }, null, 2)}\n`
          : `model ${model.location}${model.trialId ? ` (trial ${model.trialId})` : ''}\n${formatPredictions(predictions)}\n`,
      );
    });
}
