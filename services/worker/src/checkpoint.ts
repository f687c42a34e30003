import { getOptimizerState, setOptimizerState, type EpochLog, type tf } from '@sweepq/model';
import type { AttemptRecord } from '@sweepq/results';
import { layout, type ArtifactStore } from '@sweepq/storage';
import { z } from 'zod';
import { LockLostError, VersionedJson, type Versioned } from '@sweepq/lifecycle';

/** One resume of a trial from its checkpoint. */
export interface ResumeRecord {
  attempt: number;
  worker: string;
  fromEpoch: number;
  at: string;
}

/** `checkpoint/state.json`: written after the epoch's weight files, so it only ever points at complete files. */
export interface CheckpointState {
  format: 'sweepq-checkpoint/1';
  /** Epochs completed (1-based count). */
  epoch: number;
  history: EpochLog[];
  seed: number;
  weights: { key: string; shapes: number[][] };
  optimizer: { key: string; names: string[]; shapes: number[][] };
  /** Epochs trained across every attempt, re-runs of lost partial epochs not included. */
  epochsTrained: number;
  resumes: ResumeRecord[];
  /** Every attempt so far, the current one last (its `endedAt` is this checkpoint's time); absent in older checkpoints. */
  attempts?: AttemptRecord[];
  worker: string;
  attempt: number;
  savedAt: string;
}

const epochLogSchema = z.object({
  epoch: z.number(),
  loss: z.number(),
  accuracy: z.number(),
  val_loss: z.number(),
  val_accuracy: z.number(),
  seconds: z.number(),
  samplesPerSec: z.number(),
});
const shapes = z.array(z.array(z.number().int().min(0)));
// The checkpoint is read back from the bucket, which another process wrote: validate before trusting it.
const stateSchema = z.object({
  format: z.literal('sweepq-checkpoint/1'),
  epoch: z.number().int().min(1),
  history: z.array(epochLogSchema),
  seed: z.number().int(),
  weights: z.object({ key: z.string(), shapes }),
  optimizer: z.object({ key: z.string(), names: z.array(z.string()), shapes }),
  epochsTrained: z.number().int().min(0),
  resumes: z.array(z.object({ attempt: z.number(), worker: z.string(), fromEpoch: z.number(), at: z.string() })),
  attempts: z
    .array(z.object({ attempt: z.number(), worker: z.string(), startedAt: z.string(), endedAt: z.string().optional(), fromEpoch: z.number() }))
    .optional(),
  worker: z.string(),
  attempt: z.number(),
  savedAt: z.string(),
});

/**
 * `checkpoint/state.json`: which attempt holds the trial's checkpoint, and the latest checkpoint (absent before the
 * first epoch ends). Written only by compare-and-set: an attempt takes it when it starts, and every later write
 * requires the version it wrote last, so an attempt paused past its lock finds it taken and writes nothing more.
 */
interface CheckpointPointer extends Versioned {
  format: 'sweepq-checkpoint-pointer/1';
  /** The attempt key of the attempt that holds the checkpoint. */
  owner: string;
  checkpoint?: CheckpointState;
}

const pointerSchema = z.object({
  format: z.literal('sweepq-checkpoint-pointer/1'),
  owner: z.string(),
  checkpoint: stateSchema.optional(),
  writeId: z.string().optional(),
});

/** Reads a pointer, or a checkpoint written before pointers existed (its state.json was the checkpoint itself). */
function parsePointer(raw: unknown): CheckpointPointer {
  const p = pointerSchema.safeParse(raw);
  if (p.success) return p.data as CheckpointPointer;
  const old = stateSchema.safeParse(raw);
  // An unreadable checkpoint is ignored (the trial starts over), as before.
  return { format: 'sweepq-checkpoint-pointer/1', owner: '', ...(old.success ? { checkpoint: old.data as CheckpointState } : {}) };
}

/** A loaded checkpoint: its state and the bytes it points at. */
export interface LoadedCheckpoint {
  state: CheckpointState;
  weights: Float32Array;
  optimizer: Uint8Array;
}

/**
 * One attempt's hold on a trial's checkpoint and metrics.jsonl. {@link take} makes the attempt their owner (loading
 * the checkpoint it finds); {@link save} writes an epoch's files under the attempt's own folder and then moves the
 * pointer, and {@link writeMetrics} rewrites metrics.jsonl — both by compare-and-set, both throwing
 * {@link LockLostError} once another attempt has taken the trial.
 */
export class TrialCheckpoint {
  readonly #store: ArtifactStore;
  readonly #sweepId: string;
  readonly #trialId: string;
  readonly attemptKey: string;
  #pointer: VersionedJson<CheckpointPointer> | undefined;
  #metricsEtag: string | undefined;

  constructor(store: ArtifactStore, sweepId: string, trialId: string, attemptKey: string) {
    this.#store = store;
    this.#sweepId = sweepId;
    this.#trialId = trialId;
    this.attemptKey = attemptKey;
  }

  /**
   * Take the trial's checkpoint for this attempt and return what it held (undefined: start from scratch). If another
   * attempt writes between the read and the take, read again: whatever it saved is resumed from.
   */
  async take(): Promise<LoadedCheckpoint | undefined> {
    for (let conflicts = 0; ; conflicts++) {
      const pointer = await VersionedJson.read(this.#store, layout.checkpointState(this.#sweepId, this.#trialId), parsePointer);
      const loaded = pointer.value?.checkpoint ? await this.#load(pointer.value.checkpoint) : undefined;
      const metrics = await this.#store.head(layout.metrics(this.#sweepId, this.#trialId));
      const next: CheckpointPointer = { format: 'sweepq-checkpoint-pointer/1', owner: this.attemptKey, ...(loaded ? { checkpoint: loaded.state } : {}) };
      if (await pointer.write(next)) {
        this.#pointer = pointer;
        this.#metricsEtag = metrics?.etag;
        return loaded;
      }
      if (conflicts >= 20) throw new Error(`checkpoint of trial ${this.#trialId} keeps changing; try again`);
    }
  }

  /**
   * Save model weights and optimizer state for a completed epoch: files under this attempt's folder first, then the
   * pointer (the checkpoint's commit point), then the attempt's previous epoch folder is removed. A crash at any
   * moment leaves a consistent checkpoint; a pause past the lock leaves files nobody points at.
   */
  async save(model: tf.LayersModel, state: Omit<CheckpointState, 'format' | 'weights' | 'optimizer' | 'savedAt'>, previousEpoch: number | undefined): Promise<CheckpointState> {
    const pointer = this.#held();
    const dir = this.#epochDir(state.epoch);
    const tensors = model.getWeights();
    const parts: Float32Array[] = [];
    for (const t of tensors) parts.push((await t.data()) as Float32Array);
    const weights = concat(parts);
    const opt = await getOptimizerState(model);
    await this.#store.put(`${dir}weights.bin`, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength));
    await this.#store.put(`${dir}optimizer.bin`, opt.weights);
    const full: CheckpointState = {
      format: 'sweepq-checkpoint/1',
      ...state,
      weights: { key: `${dir}weights.bin`, shapes: tensors.map((t) => [...t.shape]) },
      optimizer: { key: `${dir}optimizer.bin`, names: opt.names, shapes: opt.shapes },
      savedAt: new Date().toISOString(),
    };
    if (!(await pointer.write({ format: 'sweepq-checkpoint-pointer/1', owner: this.attemptKey, checkpoint: full }))) {
      throw new LockLostError(this.#trialId);
    }
    if (previousEpoch !== undefined && previousEpoch !== state.epoch) {
      await this.#store.deletePrefix(this.#epochDir(previousEpoch)).catch(() => undefined);
    }
    return full;
  }

  /**
   * Rewrite metrics.jsonl whole, on the version this attempt saw or wrote last. A conflict while this attempt still
   * holds the pointer is a late write of an attempt that lost the trial: overwritten. Otherwise this attempt lost it.
   */
  async writeMetrics(text: string): Promise<void> {
    const pointer = this.#held();
    const key = layout.metrics(this.#sweepId, this.#trialId);
    for (let conflicts = 0; conflicts < 5; conflicts++) {
      const put =
        this.#metricsEtag === undefined
          ? await this.#store.putIfAbsent(key, text, 'application/x-ndjson')
          : await this.#store.putIfMatch(key, text, this.#metricsEtag, 'application/x-ndjson');
      if (put) {
        this.#metricsEtag = put.etag;
        return;
      }
      if (!(await pointer.unchanged())) throw new LockLostError(this.#trialId);
      this.#metricsEtag = (await this.#store.head(key))?.etag;
    }
    throw new Error(`metrics.jsonl of trial ${this.#trialId} keeps changing; try again`);
  }

  #held(): VersionedJson<CheckpointPointer> {
    if (!this.#pointer) throw new Error('TrialCheckpoint.take() first');
    return this.#pointer;
  }

  #epochDir(epoch: number): string {
    return `${layout.attemptCheckpointPrefix(this.#sweepId, this.#trialId, this.attemptKey)}e${String(epoch).padStart(4, '0')}/`;
  }

  /** The files a checkpoint state points at, checked; undefined when they are missing or do not fit (ignored). */
  async #load(state: CheckpointState): Promise<LoadedCheckpoint | undefined> {
    const prefix = layout.trialPrefix(this.#sweepId, this.#trialId);
    if (!state.weights.key.startsWith(prefix) || !state.optimizer.key.startsWith(prefix)) return undefined;
    const w = await this.#store.get(state.weights.key);
    const o = await this.#store.get(state.optimizer.key);
    if (!w || !o || w.byteLength % 4 !== 0) return undefined;
    const weights = new Float32Array(w.slice().buffer);
    const expected = state.weights.shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
    if (weights.length !== expected) return undefined;
    return { state, weights, optimizer: o };
  }
}

/** Put checkpointed weights and optimizer state into a freshly built model of the same architecture. */
export async function restoreCheckpoint(
  tfjs: typeof tf,
  model: tf.LayersModel,
  ckpt: LoadedCheckpoint,
): Promise<void> {
  const current = model.getWeights();
  const shapesNow = current.map((t) => [...t.shape].join('x')).join(',');
  const shapesThen = ckpt.state.weights.shapes.map((s) => s.join('x')).join(',');
  if (shapesNow !== shapesThen) {
    throw new Error(`checkpoint does not fit the model: weights ${shapesThen} vs ${shapesNow}`);
  }
  let offset = 0;
  const tensors = ckpt.state.weights.shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = tfjs.tensor(ckpt.weights.subarray(offset, offset + size), shape, 'float32');
    offset += size;
    return t;
  });
  model.setWeights(tensors);
  tfjs.dispose(tensors);
  await setOptimizerState(model, { names: ckpt.state.optimizer.names, shapes: ckpt.state.optimizer.shapes, weights: ckpt.optimizer });
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
