import type { Redis } from 'ioredis';
import { describeRungOutcome, rungStep } from '@sweepq/search';
import type { RuleOutcome } from '@sweepq/search';
import { rungEpochs } from '@sweepq/sweep-config';
import type { SweepSpec } from '@sweepq/sweep-config';
import { redisKeys } from '@sweepq/queue';

/** What a trial does after reporting an epoch. */
export interface RungDecision {
  /** False: stop now; the trial ends as `stopped` (reason `early_terminated`) and keeps its metrics and weights. */
  continue: boolean;
  /** The epoch of the rung that decided, or null when this epoch is not a rung (the trial simply continues). */
  rung: number | null;
  /** Why, in words, for logs and the trial result. */
  reason?: string;
}

/** Seconds the rung keys live after their last write (the sweep's lifetime in practice). */
const TTL_SEC = 30 * 24 * 3600;

// One script decides a report atomically, so concurrent workers reporting the same rung are serialised by Redis.
// It implements ashaRule / medianRule of @sweepq/search's pruners exactly (same ranking, tie rule and median).
// KEYS: 1 values at this epoch (trial -> value), 2 decisions at this epoch (trial -> decision),
//       3 values at the previous epoch (median: the trial's best so far), 4 index of keys (for clear).
// ARGV: 1 trial, 2 value, 3 mode (asha | asha_best | median | record), 4 maximize (1/0), 5 eta, 6 warmup, 7 ttl.
// asha ranks the value at this epoch; asha_best (hyperband strict: false), median and record first replace it with the
// trial's best so far (this value or the one recorded at the previous epoch).
// Returns the stored decision "continue|rank|n|keep|threshold|value" ("r" for record; value is the one recorded, the
// best so far for median), identical on a repeated report.
const REPORT_SCRIPT = `
local trial = ARGV[1]
local mode = ARGV[3]
local maximize = ARGV[4] == '1'
local function better(a, b) if maximize then return a > b else return a < b end end
local prior = redis.call('HGET', KEYS[2], trial)
if prior then return prior end
local valueStr = ARGV[2]
local value = tonumber(valueStr)
local ttl = tonumber(ARGV[7])
if mode ~= 'asha' then
  if mode == 'record' and redis.call('HEXISTS', KEYS[1], trial) == 1 then return 'r' end
  local prev = redis.call('HGET', KEYS[3], trial)
  if prev and better(tonumber(prev), value) then
    valueStr = prev
    value = tonumber(prev)
  end
end
redis.call('HSET', KEYS[1], trial, valueStr)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('SADD', KEYS[4], KEYS[1], KEYS[2])
redis.call('EXPIRE', KEYS[4], ttl)
if mode == 'record' then return 'r' end
local all = redis.call('HGETALL', KEYS[1])
local vals = {}
for i = 1, #all, 2 do
  if mode ~= 'median' or all[i] ~= trial then
    table.insert(vals, { tonumber(all[i + 1]), all[i + 1] })
  end
end
local n = #vals
local rank = 1
for _, v in ipairs(vals) do if better(v[1], value) then rank = rank + 1 end end
local decision
if mode == 'asha' or mode == 'asha_best' then
  local eta = tonumber(ARGV[5])
  local keep = n
  if n >= eta then keep = math.floor(n / eta) end
  table.sort(vals, function(a, b) return better(a[1], b[1]) end)
  local threshold = ''
  if keep > 0 then threshold = vals[keep][2] end
  local cont = '0'
  if rank <= keep then cont = '1' end
  decision = cont .. '|' .. rank .. '|' .. n .. '|' .. keep .. '|' .. threshold .. '|' .. valueStr
else
  local warmup = tonumber(ARGV[6])
  if n == 0 or n < warmup then
    decision = '1|' .. rank .. '|' .. n .. '|' .. n .. '||' .. valueStr
  else
    table.sort(vals, function(a, b) return a[1] < b[1] end)
    local mid = math.floor(n / 2)
    local median
    local medianStr
    if n % 2 == 1 then
      median = vals[mid + 1][1]
      medianStr = vals[mid + 1][2]
    else
      median = (vals[mid][1] + vals[mid + 1][1]) / 2
      medianStr = string.format('%.17g', median)
    end
    local cont = '1'
    if better(median, value) then cont = '0' end
    decision = cont .. '|' .. rank .. '|' .. n .. '|' .. n .. '|' .. medianStr .. '|' .. valueStr
  end
end
redis.call('HSET', KEYS[2], trial, decision)
redis.call('EXPIRE', KEYS[2], ttl)
return decision
`;

/**
 * Early-termination state of one sweep in Redis: the metric every trial reported at each rung, and the decision
 * taken. Keys: `<prefix>:sweepq:rung:<sweepId>:e<epoch>:values|decisions` and an index set
 * `<prefix>:sweepq:rung:<sweepId>:keys`; they all start with `prefix`, so with a hash-tag prefix such as `{sweepq}`
 * they live in one cluster slot as the multi-key script requires. Keys expire 30 days after their last write.
 */
export class RungStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly sweepId: string,
  ) {
    if (sweepId === '' || sweepId.includes('\n')) throw new RangeError(`sweepId must be a non-empty single-line string, got ${JSON.stringify(sweepId)}`);
  }

  private key(epoch: number, kind: 'values' | 'decisions'): string {
    return redisKeys(this.prefix).rung(this.sweepId, epoch, kind);
  }

  private get indexKey(): string {
    return redisKeys(this.prefix).rungIndex(this.sweepId);
  }

  /**
   * Records a trial's metric after `epoch` (1-based) and, when that epoch is a rung of the spec's `early_terminate`,
   * decides atomically whether the trial continues (the rules are @sweepq/search's pruners):
   * - hyperband: asynchronous successive halving (see `ashaRule`): continue iff the value ranks in the top
   *   floor(n / eta) of the n values recorded at this rung so far, its own included; every trial continues while
   *   n < eta; ties share the better rank. The value is the metric at the rung epoch (`strict`, W&B's default), or
   *   with `strict: false` the trial's best value up to the rung (then every epoch up to the last rung is recorded;
   *   otherwise only rung epochs touch Redis).
   * - median (see `medianRule`): every epoch records the trial's best value so far; at epochs >= min_iter the trial
   *   stops if that is strictly worse than the median of the other trials' best-so-far at the same epoch, once
   *   `warmup_trials` others have reported it.
   * The metric's goal (maximize/minimize) decides what "better" means. Idempotent: reporting the same (trial, epoch)
   * again returns the first decision unchanged, so a resumed trial keeps its history.
   * @param spec the sweep spec (only `early_terminate`, `metric` and the `epochs` parameter are read).
   * @throws RangeError for a non-integer epoch < 1 or a non-finite value (a diverged trial fails instead).
   */
  async report(trialId: string, epoch: number, value: number, spec: Pick<SweepSpec, 'early_terminate' | 'metric' | 'parameters'>): Promise<RungDecision> {
    if (!Number.isSafeInteger(epoch) || epoch < 1) throw new RangeError(`epoch must be an integer >= 1, got ${String(epoch)}`);
    if (!Number.isFinite(value)) throw new RangeError(`metric value must be finite, got ${String(value)}`);
    if (trialId === '') throw new RangeError('trialId must not be empty');
    const step = rungStep(spec, epoch);
    if (step === null) return { continue: true, rung: null };
    const raw = (await this.redis.eval(
      REPORT_SCRIPT,
      4,
      this.key(epoch, 'values'),
      this.key(epoch, 'decisions'),
      this.key(epoch - 1, 'values'),
      this.indexKey,
      trialId,
      String(value),
      step.mode,
      step.maximize ? '1' : '0',
      String(step.eta),
      String(step.warmup),
      String(TTL_SEC),
    )) as string;
    if (raw === 'r') return { continue: true, rung: null };
    const [cont, rank, n, keep, threshold, recorded] = raw.split('|');
    const outcome: RuleOutcome = {
      continue: cont === '1',
      rank: Number(rank),
      n: Number(n),
      keep: Number(keep),
      threshold: threshold === undefined || threshold === '' ? null : Number(threshold),
    };
    return { continue: outcome.continue, rung: epoch, reason: describeRungOutcome(spec, step, epoch, outcome, Number(recorded)) };
  }

  /**
   * The values a trial recorded at the rung epochs of the spec (hyperband: its value at each rung it reached;
   * median: its best value so far at each epoch from min_iter), epoch -> value; empty without early termination.
   * One round trip. For the sampler's curves (Observation.curve): the values the rung decisions compared.
   */
  async trialValues(trialId: string, spec: Pick<SweepSpec, 'early_terminate' | 'parameters'>): Promise<Record<number, number>> {
    const epochs = rungEpochs(spec);
    if (epochs.length === 0) return {};
    const pipe = this.redis.pipeline();
    for (const e of epochs) pipe.hget(this.key(e, 'values'), trialId);
    const replies = (await pipe.exec()) ?? [];
    const out: Record<number, number> = {};
    epochs.forEach((e, i) => {
      const [err, raw] = replies[i] ?? [null, null];
      if (err) throw err;
      const v = typeof raw === 'string' ? Number(raw) : NaN;
      if (Number.isFinite(v)) out[e] = v;
    });
    return out;
  }

  /** Deletes every key of this sweep's rungs. */
  async clear(): Promise<void> {
    const keys = await this.redis.smembers(this.indexKey);
    for (let i = 0; i < keys.length; i += 500) await this.redis.del(...keys.slice(i, i + 500));
    await this.redis.del(this.indexKey);
  }
}
