// Submit a sweep from a script, follow it, and read its leaderboard and best model: the README's client example.
// test/package-install.test.ts compiles this file with `tsc --strict --module nodenext` in a fresh project that
// installed the packed packages, and runs it with plain node.
//
// Settings come from the environment (REDIS_URL, S3_ENDPOINT, S3_BUCKET, AWS_ACCESS_KEY_ID, ...), or pass them:
//   SweepqClient.connect({ redisUrl: 'redis://redis.internal:6379',
//     s3: { endpoint: 'http://s3.internal:8333', bucket: 'sweepq', region: 'us-east-1', forcePathStyle: true,
//           credentials: { accessKeyId: '…', secretAccessKey: '…' } } })
import { SweepqClient, SweepqClientError, type SweepStatus } from 'sweepq-client';

const client = await SweepqClient.connect();
try {
  // The spec as an object (YAML text works too): the same fields as a spec file.
  const sweep = await client.submit({
    name: 'client-example',
    method: 'grid',
    metric: { name: 'val_accuracy', goal: 'maximize' },
    parameters: {
      lstm_units: { values: [4, 8] },
      embedding_dim: { value: 8 },
      max_words: { value: 500 },
      max_len: { value: 32 },
      batch_size: { value: 32 },
      learning_rate: { value: 0.01 },
      epochs: { value: 1 },
    },
    dataset: { uri: 'builtin:spam-assassin', validation_split: 0.2, test_split: 0.1, seed: 42 },
  });
  console.log(`submitted ${sweep.id}; files in ${sweep.location}`);

  const done: SweepStatus = await sweep.wait({
    onProgress: ({ sweep: s, trials }) => console.log(`${s.state}: ${trials ? `${trials.completed}/${trials.total} trials done` : 'planning'}`),
  });
  console.log(`sweep ${done.sweep.state}${done.sweep.error ? `: ${done.sweep.error}` : ''}`);

  const board = await sweep.leaderboard();
  for (const row of board.rows) {
    console.log(`${row.rank ?? '-'} ${row.trialId} ${row.state} ${board.metric.name}=${row.metric ?? 'n/a'} lstm_units=${String(row.result.params.lstm_units)}`);
  }
  const best = await sweep.bestModel();
  console.log(best ? `best model: ${best.uri} (trial ${best.info.trialId}, classes ${best.info.classes.join('/')})` : 'no best model');
  if (done.sweep.state !== 'completed') process.exitCode = 1;
} catch (err) {
  // Every error the client raises on purpose has a stable code: SPEC_INVALID, REDIS_UNAVAILABLE, STORAGE_FAILED, ...
  if (!(err instanceof SweepqClientError)) throw err;
  console.error(`sweepq: ${err.code}: ${err.message}`);
  process.exitCode = 1;
} finally {
  await client.close();
}
