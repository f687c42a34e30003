/**
 * Existing specs plan the same sweeps (issue 26: "the single-metric behaviour of existing specs is unchanged (same
 * plans for the same seeds)"). Recorded on main (9efe8c4) before any search change: sweeps of grid, random, TPE
 * (univariate and multivariate) and TPE with hyperband (min_iter 3 and 1, eta 3) replayed on the committed tables
 * with 4 in flight and 120 epochs, through the real planners, sampler and ASHA rule (table-sim.ts). Each trial is
 * written `row:epochs` plus how it ended (f finished, s stopped at a rung, nothing: still running when the budget ran
 * out), in proposal order, so a change to a proposal or to a rung decision shows here.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readTable } from '../bench/table-format.js';
import { SIM_METHODS, TableLookup, simulateSweep } from '../bench/table-sim.js';
import type { SimMethod } from '../bench/table-sim.js';

const RECORDED: Record<string, string> = {
  "spam-assassin grid seed 1":
    "3892:9f 65:9f 530:9f 16563:9f 3892:9f 3892:9f 3892:9f 4479:9f 5200:9f 65:9f 530:8 65:9f 3892:7 7933:6 470:0",
  "spam-assassin grid seed 2":
    "3892:9f 65:9f 530:9f 16563:9f 3892:9f 3892:9f 3892:9f 4479:9f 5200:9f 65:9f 530:8 65:9f 3892:7 7933:6 470:0",
  "spam-assassin random seed 1":
    "18412:9f 9503:9f 10094:9f 11375:9f 3892:9f 8435:9f 10601:9f 4819:9f 9768:9f 10664:9f 19312:9f 17665:9f 18854:9f 7103:1 5532:1 10853:1 9665:0",
  "spam-assassin random seed 2":
    "2859:9f 13400:9f 4408:9f 7933:9f 14732:9f 1413:9f 2228:9f 11375:8 2389:9f 8092:9f 17998:9f 10938:9f 9787:7 5418:4 9768:2",
  "spam-assassin tpe seed 1":
    "18412:9f 9503:9f 10094:9f 11375:9f 3892:9f 8435:9f 10601:9f 4819:9f 9768:9f 10664:9f 8435:6 3689:9f 5418:5 2859:6 9787:4",
  "spam-assassin tpe seed 2":
    "2859:9f 13400:9f 4408:9f 7933:9f 14732:9f 1413:9f 2228:9f 11375:5 2389:7 8092:9f 16306:9f 14937:7 16306:9f 13400:9f 7933:2",
  "spam-assassin tpe+hyperband seed 1 min_iter 3":
    "18412:9f 9503:9f 10094:9f 11375:3s 3892:3s 8435:3s 10601:3s 4819:3s 9768:3s 10664:3s 530:3s 10094:9f 2389:3s 6225:3s 9787:3s 5628:3s 10094:9f 2366:3s 2366:3s 1698:3s 1944:3s 1944:3s 470:3s 13687:3 6228:3s 13559:9f 4734:0 9787:3 16563:3",
  "spam-assassin tpe+hyperband seed 2 min_iter 1":
    "2859:1s 13400:9f 4408:1s 7933:9f 14732:1s 1413:1s 2228:1s 11375:1s 2389:1s 8092:1s 13400:9f 13400:9f 16306:3s 14072:3s 530:1s 16306:3s 13400:9f 13400:9f 1698:1s 14216:1s 13400:9f 10094:1s 13400:9f 13400:9f 13400:9f 13400:6 530:1s 13687:0 13754:0 10664:1s 13400:1",
  "spam-assassin tpe-mv seed 1":
    "18412:9f 9503:9f 10094:9f 11375:9f 3892:9f 8435:9f 10601:9f 4819:9f 9768:9f 10664:9f 4479:9f 9768:8 17998:6 8435:6 5733:1",
  "spam-assassin tpe-mv seed 2":
    "2859:9f 13400:9f 4408:9f 7933:9f 14732:9f 1413:9f 2228:9f 11375:7 2389:9f 8092:9f 13400:9f 13754:4 1413:9f 13400:9f 7378:1 9182:0",
  "spam-assassin tpe-mv+hyperband seed 1 min_iter 3":
    "18412:9f 9503:9f 10094:9f 11375:3s 3892:3s 8435:3s 10601:3s 4819:3s 9768:3s 10664:3s 5628:3s 1944:3s 8435:3s 16069:9f 3110:3s 7933:9f 9665:8 470:3s 7933:9f 3181:3s 7933:9f 7933:6 12100:4 17998:0",
  "spam-assassin tpe-mv+hyperband seed 2 min_iter 1":
    "2859:1s 13400:9f 4408:1s 7933:9f 14732:1s 1413:1s 2228:1s 11375:1s 2389:1s 8092:1s 13400:9f 16306:3s 1413:1s 13400:9f 10664:1s 13754:8 16103:7 470:1s 13400:9f 16486:2 13400:9f 13400:9f 10094:1s 5200:1s 9665:1s 5418:1s 5200:1s 13400:9f 14072:3s 13754:1s 13400:8",
  "topics4 grid seed 1":
    "3892:9f 65:9f 530:9f 16563:9f 3892:9f 3892:9f 3892:9f 4479:9f 5200:9f 65:9f 530:6 65:9f 3892:7 7933:8 470:0",
  "topics4 grid seed 2":
    "3892:9f 65:9f 530:9f 16563:9f 3892:9f 3892:9f 3892:9f 4479:9f 5200:9f 65:9f 530:6 65:9f 3892:7 7933:8 470:0",
  "topics4 random seed 1":
    "18412:9f 9503:7 10094:9f 11375:9f 3892:9f 8435:9f 10601:9f 4819:9f 9768:9f 10664:9f 19312:9f 17665:9f 18854:9f 7103:2 5532:1 10853:2",
  "topics4 random seed 2":
    "2859:9f 13400:9f 4408:9f 7933:9f 14732:9f 1413:9f 2228:9f 11375:9f 2389:8 8092:9f 17998:9f 10938:9f 9787:7 5418:6 9768:0",
  "topics4 tpe seed 1":
    "18412:9f 9503:5 10094:9f 11375:9f 3892:9f 8435:9f 10601:9f 4819:9f 9768:9f 10664:9f 314:9f 3689:9f 5418:4 13559:9f 9787:1 10094:2",
  "topics4 tpe seed 2":
    "2859:9f 13400:9f 4408:9f 7933:9f 14732:9f 1413:9f 2228:9f 11375:9f 2389:9f 8092:9f 16306:9f 14937:8 10859:9f 1698:3 13687:0 16306:1",
  "topics4 tpe+hyperband seed 1 min_iter 3":
    "18412:9f 9503:4 10094:9f 11375:3s 3892:3s 8435:3s 10601:3s 4819:3s 9768:9f 10664:3s 6393:3s 4479:9f 6228:3s 4479:9f 4479:9f 3670:2 7933:9f 2366:3s 12100:9f 1901:3s 4348:3s 7933:9f 10140:0 5628:0",
  "topics4 tpe+hyperband seed 2 min_iter 1":
    "2859:3s 13400:9f 4408:1s 7933:9f 14732:1s 1413:1s 2228:1s 11375:1s 2389:3s 8092:1s 11531:1s 14720:1s 5418:3s 7378:3s 9787:3s 6187:1s 2366:3s 7378:3s 13400:9f 14072:8 10859:1s 14435:1s 13754:3s 6225:3s 10859:1s 7378:1s 9525:3s 13687:7 9182:1s 530:1s 16563:9f 10140:6 7933:1s 15713:9f 16563:8",
  "topics4 tpe-mv seed 1":
    "18412:9f 9503:8 10094:9f 11375:9f 3892:9f 8435:9f 10601:9f 4819:9f 9768:9f 10664:9f 8435:9f 9768:9f 16606:2 8435:8 3288:3",
  "topics4 tpe-mv seed 2":
    "2859:9f 13400:9f 4408:9f 7933:9f 14732:9f 1413:9f 2228:9f 11375:7 2389:6 8092:9f 5418:9f 17041:9f 4348:9f 16563:5 7933:3",
  "topics4 tpe-mv+hyperband seed 1 min_iter 3":
    "18412:9f 9503:9f 10094:9f 11375:3s 3892:3s 8435:3s 10601:3s 4819:3s 9768:9f 10664:3s 8435:9f 10094:9f 9525:3s 1698:3s 1944:3s 4278:3s 9665:9f 3670:3s 4053:3s 9787:3s 9665:8 9665:8 13687:0 13559:2",
  "topics4 tpe-mv+hyperband seed 2 min_iter 1":
    "2859:3s 13400:9f 4408:1s 7933:9f 14732:1s 1413:1s 2228:1s 11375:1s 2389:1s 8092:1s 13400:9f 3689:3s 3110:3s 10859:1s 14435:1s 8435:1s 7103:3s 3689:3s 10094:3s 3110:3s 16306:9f 470:1s 7048:1s 14498:1s 13754:3s 13624:3s 10094:3s 13754:3s 18746:1s 13754:3s 4711:1s 14937:1s 13400:9f 7933:1s 13400:9f 7933:1s 11805:1s 14435:1s 13400:4 13400:4 13400:2 16877:0",
};

const lookups = new Map<string, TableLookup>();
function lookup(table: string): TableLookup {
  let l = lookups.get(table);
  if (l === undefined) {
    l = new TableLookup(readTable(fileURLToPath(new URL(`../bench/tables/${table}.jsonl.gz`, import.meta.url))));
    lookups.set(table, l);
  }
  return l;
}

describe('plans of existing specs on the tables (recorded before any search change)', () => {
  for (const [name, want] of Object.entries(RECORDED)) {
    it(name, () => {
      const [table, method, , seed, , minIter] = name.split(' ');
      expect(SIM_METHODS).toContain(method);
      const r = simulateSweep(lookup(table as string), {
        method: method as SimMethod,
        seed: Number(seed),
        budget: { kind: 'epochs', amount: 120 },
        inFlight: 4,
        minIter: minIter === undefined ? 3 : Number(minIter),
        eta: 3,
      });
      expect(r.runs.map((x) => `${x.row}:${x.epochs}${x.outcome === null ? '' : x.outcome.slice(0, 1)}`).join(' ')).toBe(want);
    });
  }
});
