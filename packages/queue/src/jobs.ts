import { z } from 'zod';
import { addedLater, DEFAULT_PARAMS, PARAMETER_NAMES, PARAMETER_RULES, type ParameterName, type ParameterRule, type TrialParams } from '@sweepq/sweep-config';
import { formatZodIssues } from '@sweepq/runtime/zod-issues';
import { PayloadError } from './errors.js';

const safeId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected 1-64 characters of a-z, 0-9 and "-", starting with a letter or digit');

/** A sweep submission: the coordinator reads the spec from the bucket. */
export const sweepJobSchema = z
  .object({
    sweepId: safeId,
    /** Store-relative key of the submitted spec. */
    specKey: z.string().min(1).max(512),
    submittedAt: z.string().datetime(),
  })
  .strict();
export type SweepJob = z.infer<typeof sweepJobSchema>;

/** A zod schema for one parameter's rule: the same bounds the spec enforces. */
function ruleSchema(rule: ParameterRule): z.ZodType {
  switch (rule.type) {
    case 'int':
      return z.number().int().min(rule.min).max(rule.max);
    case 'enum':
      return z.enum(rule.values as [string, ...string[]]);
    case 'bool':
      return z.boolean();
    case 'float': {
      let n = z.number();
      n = rule.minExclusive ? n.gt(rule.min) : n.min(rule.min);
      if (Number.isFinite(rule.max)) n = rule.maxExclusive ? n.lt(rule.max) : n.max(rule.max);
      return n.finite();
    }
  }
}

/**
 * One trial's resolved parameters, derived from the spec's parameter table (`PARAMETER_RULES`): Redis is a trust
 * boundary, and a payload is held to exactly the bounds a spec is. A parameter added after the first payload format
 * (`addedLater`) may be absent and then means its default: a job queued by a coordinator from before an upgrade still
 * runs, as the model it asked for.
 */
export const trialParamsSchema = z
  .object(
    Object.fromEntries(
      PARAMETER_NAMES.map((n) => [n, addedLater(n) ? ruleSchema(PARAMETER_RULES[n]).default(DEFAULT_PARAMS[n]) : ruleSchema(PARAMETER_RULES[n])]),
    ) as Record<ParameterName, z.ZodType>,
  )
  .strict() as unknown as z.ZodType<TrialParams>;

/** A trial to train. */
export const trialJobSchema = z
  .object({
    sweepId: safeId,
    trialId: safeId,
    index: z.number().int().min(0),
    params: trialParamsSchema,
    /** Seed for initializers, dropout and batch order. */
    seed: z.number().int(),
    /** The sweep's metric as the spec resolves it (`target`, W&B's metric.target, is the coordinator's concern). */
    metric: z.object({ name: z.string().min(1).max(64), goal: z.enum(['maximize', 'minimize']), target: z.number().optional() }).strict(),
    dataset: z
      .object({
        /** Store-relative key of the prepared dataset. */
        key: z.string().min(1).max(512),
        hash: z.string().regex(/^[a-f0-9]{16,64}$/, 'expected a hex content hash'),
        /**
         * SHA-256 of the dataset's shard manifest as stored, set by the coordinator once the dataset is prepared: the
         * worker refuses a manifest with other bytes. Absent in jobs queued before it existed (then not checked).
         */
        manifestSha256: z.string().regex(/^[a-f0-9]{64}$/, 'expected the 64 hex digits of a SHA-256').optional(),
      })
      .strict(),
    /** Per-trial timeout in seconds, if the spec sets one. */
    timeoutSec: z.number().positive().optional(),
    /** The sweep has an early_terminate rule: report each epoch to the rung store (rules are in spec.yaml). */
    earlyTerminate: z.boolean().optional(),
  })
  .strict();
export type TrialJob = z.infer<typeof trialJobSchema>;

/** Progress a worker reports for a running trial. */
export const trialProgressSchema = z.object({
  sweepId: z.string(),
  trialId: z.string(),
  epoch: z.number(),
  epochs: z.number(),
  batch: z.number().optional(),
  batches: z.number().optional(),
  loss: z.number().optional(),
  val_accuracy: z.number().optional(),
  val_loss: z.number().optional(),
});
export type TrialProgress = z.infer<typeof trialProgressSchema>;

/** Validate a payload (on add, and again in the processor: Redis is a trust boundary). */
export function parsePayload<S extends z.ZodType>(queue: string, schema: S, data: unknown): z.infer<S> {
  const r = schema.safeParse(data, { reportInput: true });
  if (r.success) return r.data;
  throw new PayloadError(queue, formatZodIssues(r.error.issues));
}
