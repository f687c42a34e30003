// What several objectives add to building the report's data (not a test: numbers only, no assertions).
//   node --conditions=source --import tsx packages/report/bench/pareto-bench.ts [trials=1000,3000] [rounds=3]
// A: the synthetic sweep with one metric; B: the same trials (their costs recorded either way) with two objectives,
// val_accuracy and model_bytes, which adds objective values, Pareto ranks (paretoRanks, O(n^2)) and the pairs' fronts.
// A and B alternate within each round, so a busy machine slows both alike; the ratio B/A is the figure to read.
import type { MetricSpec, SweepSpec } from '@sweepq/sweep-config';
import { buildReportData } from '../src/index.js';
import { syntheticSweep } from '../test/fixtures.js';

const sizes = (process.argv[2] ?? '1000,3000').split(',').map(Number);
const rounds = Number(process.argv[3] ?? 3);
const objectives: MetricSpec[] = [
  { name: 'val_accuracy', goal: 'maximize' },
  { name: 'model_bytes', goal: 'minimize' },
];

for (const n of sizes) {
  const s = syntheticSweep({ trials: n, epochs: 20, earlyTerminate: false, objectives });
  const { objectives: _o, ...single } = s.sweep.spec as SweepSpec;
  const a = { ...s, sweep: { ...s.sweep, spec: single }, final: true };
  const b = { ...s, final: true };
  buildReportData({ ...a, results: a.results.slice(0, 50) }); // warm-up: module loading and JIT
  buildReportData({ ...b, results: b.results.slice(0, 50) });
  const times: [number, number][] = [];
  let front = 0;
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    buildReportData(a);
    const ta = performance.now() - t;
    t = performance.now();
    front = buildReportData(b).pareto?.size ?? 0;
    times.push([ta, performance.now() - t]);
  }
  const row = times.map(([x, y]) => `A ${x.toFixed(0)} ms / B ${y.toFixed(0)} ms = ${(y / x).toFixed(2)}x`).join('; ');
  console.log(`${n} trials x 20 epochs (front of ${front}): ${row}`);
}
