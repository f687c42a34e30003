import { getOptimizerState, setOptimizerState, type EpochLog, type tf } from '@sweepq/model';
import type { AttemptRecord } from '@sweepq/results';
import { layout, type ArtifactStore } from '@sweepq/storage';
import { z } from 'zod';

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

const stateKey = (s: string, t: string) => `${layout.checkpointPrefix(s, t)}state.json`;
const epochDir = (s: string, t: string, epoch: number) => `${layout.checkpointPrefix(s, t)}e${String(epoch).padStart(4, '0')}/`;

/**
 * Save model weights and optimizer state for a completed epoch. Files go to a per-epoch folder first;
 * `state.json` is replaced last and is the checkpoint's commit point; the previous epoch's folder is
 * then removed. A crash at any moment leaves a consistent checkpoint.
 */
export async function saveCheckpoint(
  store: ArtifactStore,
  sweepId: string,
  trialId: string,
  model: tf.LayersModel,
  state: Omit<CheckpointState, 'format' | 'weights' | 'optimizer' | 'savedAt'>,
  previousEpoch: number | undefined,
): Promise<CheckpointState> {
  const dir = epochDir(sweepId, trialId, state.epoch);
  const tensors = model.getWeights();
  const parts: Float32Array[] = [];
  for (const t of tensors) parts.push((await t.data()) as Float32Array);
  const weights = concat(parts);
  const opt = await getOptimizerState(model);
  await store.put(`${dir}weights.bin`, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength));
  await store.put(`${dir}optimizer.bin`, opt.weights);
  const full: CheckpointState = {
    format: 'sweepq-checkpoint/1',
    ...state,
    weights: { key: `${dir}weights.bin`, shapes: tensors.map((t) => [...t.shape]) },
    optimizer: { key: `${dir}optimizer.bin`, names: opt.names, shapes: opt.shapes },
    savedAt: new Date().toISOString(),
  };
  await store.putJson(stateKey(sweepId, trialId), full);
  if (previousEpoch !== undefined && previousEpoch !== state.epoch) {
    await store.deletePrefix(epochDir(sweepId, trialId, previousEpoch)).catch(() => undefined);
  }
  return full;
}

/** The trial's last checkpoint, or undefined when it has none (or an unreadable one, which is then ignored). */
export async function loadCheckpoint(
  store: ArtifactStore,
  sweepId: string,
  trialId: string,
): Promise<{ state: CheckpointState; weights: Float32Array; optimizer: Uint8Array } | undefined> {
  const raw = await store.getJson(stateKey(sweepId, trialId));
  if (raw === undefined) return undefined;
  const parsed = stateSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const state = parsed.data as CheckpointState;
  const prefix = layout.checkpointPrefix(sweepId, trialId);
  if (!state.weights.key.startsWith(prefix) || !state.optimizer.key.startsWith(prefix)) return undefined;
  const w = await store.get(state.weights.key);
  const o = await store.get(state.optimizer.key);
  if (!w || !o || w.byteLength % 4 !== 0) return undefined;
  const weights = new Float32Array(w.slice().buffer);
  const expected = state.weights.shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
  if (weights.length !== expected) return undefined;
  return { state, weights, optimizer: o };
}

/** Put checkpointed weights and optimizer state into a freshly built model of the same architecture. */
export async function restoreCheckpoint(
  tfjs: typeof tf,
  model: tf.LayersModel,
  ckpt: { state: CheckpointState; weights: Float32Array; optimizer: Uint8Array },
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

/** Remove a trial's checkpoint (after its result is committed, or before a fresh retry). */
export async function deleteCheckpoint(store: ArtifactStore, sweepId: string, trialId: string): Promise<void> {
  await store.deletePrefix(layout.checkpointPrefix(sweepId, trialId));
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
