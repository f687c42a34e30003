#!/usr/bin/python3
"""Optuna as the peer on a sweepq tabular benchmark (issue 26).

Runs Optuna's samplers and pruner over a table made by make-table.ts, replayed exactly as table-sim.ts replays
sweepq's: the same nearest-configuration look-up, the same simulated clock with --in-flight trials running (Optuna's
ask-and-tell: a trial is asked for when a worker is free, the running ones pending), the same budgets (epochs, or
the epochs' recorded seconds), the same seeds, and the same regret (the table's best validation accuracy minus the
best any trial reported so far, after 25 %, 50 % and 100 % of the budget).

    /usr/bin/python3 packages/search/bench/optuna-peer.py --table FILE [--seeds 100] [--first-seed 1] [--budget-epochs 180]
        [--budget-seconds S] [--in-flight 4] [--min-iter 1] [--eta 3]
        [--methods random,tpe,tpe-mv,tpe+hyperband,tpe-mv+hyperband] [--jobs 1] [--json]

Methods: RandomSampler; TPESampler (univariate, Optuna's default); TPESampler(multivariate=True); TPESampler with
HyperbandPruner(min_resource=--min-iter, max_resource=epochs, reduction_factor=--eta). Every sampler takes Optuna's
defaults otherwise (n_startup_trials 10, constant_liar off) and seed = the sweep's seed. Every parameter is
suggested with suggest_categorical over the table's value list, as sweepq's spec lists them with `values`.
Needs Debian's python3-optuna (3.1): apt-get install -y python3-optuna.

Several objectives (--objectives val_accuracy:max,model_bytes:min, table-mo-bench.ts): no pruning, every trial
trains its full epochs; --budget-trials trials per sweep, --in-flight at a time on the same simulated clock as
table-mo.ts (a trial lasts its epochs' recorded seconds). Methods: RandomSampler; TPESampler with the directions
(MOTPE: univariate, and multivariate=True); NSGAIISampler with Optuna's default population of 50 (nsga2) and with
--nsga2-population (nsga2-small; the bench passes one fifth of the budget, five generations). Each sweep's result is
the list of table rows its trials looked up, in the order they finished: table-mo-bench.ts computes both engines'
hypervolumes from those with one scale.
"""
import argparse
import gzip
import json
import math
import sys
import warnings
from multiprocessing import Pool

import optuna

FRACTIONS = (0.25, 0.5, 1.0)
METHODS = ("random", "tpe", "tpe-mv", "tpe+hyperband", "tpe-mv+hyperband")
MO_METHODS = ("random", "tpe", "tpe-mv", "nsga2", "nsga2-small")
# What a table row holds for a whole trial, per metric: the last epoch's value of a curve, or the row's number.
CURVES = ("val_accuracy", "val_loss", "loss")
NUMBERS = ("model_bytes", "param_count", "latency_ms")


def read_table(path):
    with open(path, "rb") as f:
        data = f.read()
    text = gzip.decompress(data).decode() if data[:2] == b"\x1f\x8b" else data.decode()
    header, rows, seen = None, [], set()
    for line in text.split("\n"):
        if not line.strip():
            continue
        rec = json.loads(line)
        if rec["kind"] == "header":
            header = header or rec
        elif rec["id"] not in seen:
            seen.add(rec["id"])
            rows.append(rec)
    if header is None:
        raise SystemExit(f"{path}: no header line")
    return header, rows


class Lookup:
    """Nearest configuration in the table, as TableLookup in table-sim.ts (same distance, ties to the first row)."""

    def __init__(self, header, rows):
        self.space = header["space"]
        self.names = list(self.space)
        self.rows = rows
        self.indices = [[self._index(n, r["params"][n]) for n in self.names] for r in rows]
        self.cache = {}

    def _index(self, name, v):
        values = self.space[name]
        for i, x in enumerate(values):
            # JSON true/false vs 1/0: compare types too, as JavaScript's indexOf does.
            if type(x) is type(v) and x == v:
                return i
            if isinstance(x, (int, float)) and isinstance(v, (int, float)) and not isinstance(x, bool) and not isinstance(v, bool) and x == v:
                return i
        raise ValueError(f"{name} = {v!r} is not one of {values!r}")

    def row(self, params):
        key = tuple(json.dumps(params[n]) for n in self.names)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        want = [self._index(n, params[n]) for n in self.names]
        best, best_d = 0, math.inf
        for r, idx in enumerate(self.indices):
            d = 0.0
            for k, n in enumerate(self.names):
                values = self.space[n]
                numeric = isinstance(values[0], (int, float)) and not isinstance(values[0], bool)
                d += abs(idx[k] - want[k]) / max(1, len(values) - 1) if numeric else (0 if idx[k] == want[k] else 1)
            if d < best_d:
                best_d, best = d, r
        self.cache[key] = self.rows[best]
        return self.rows[best]


def epoch_seconds(row, e):
    s = row["seconds"]
    if e - 1 < len(s):
        return s[e - 1]
    return sum(s) / len(s) if s else 1.0


def make_study(method, seed, epochs, min_iter, eta):
    if method == "random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=method.startswith("tpe-mv"))
    pruner = (
        optuna.pruners.HyperbandPruner(min_resource=min_iter, max_resource=epochs, reduction_factor=eta)
        if method.endswith("+hyperband")
        else optuna.pruners.NopPruner()
    )
    # A fixed study name: HyperbandPruner assigns a trial to a bracket by a hash of the study's name and the trial's
    # number, and the default name is a fresh UUID, so without it a sweep's brackets (and regrets) change from run to run.
    return optuna.create_study(study_name=f"table-{method}-{seed}", direction="maximize", sampler=sampler, pruner=pruner)


def simulate(lookup, header, method, seed, kind, amount, in_flight, min_iter, eta):
    """One sweep; returns (trace [(epochs, seconds, best)], trials asked)."""
    epochs_max = header["fixed"]["epochs"]
    study = make_study(method, seed, epochs_max, min_iter, eta)
    space = header["space"]
    running = []  # dicts: trial, index, row, done, next
    trace = []
    state = {"asked": 0, "epochs": 0, "seconds": 0.0, "best": -math.inf, "clock": 0.0}

    def start():
        while len(running) < in_flight:
            trial = study.ask()
            params = {n: trial.suggest_categorical(n, values) for n, values in space.items()}
            row = lookup.row(params)
            running.append({"trial": trial, "index": state["asked"], "row": row, "done": 0, "next": state["clock"] + epoch_seconds(row, 1)})
            state["asked"] += 1

    start()
    while running:
        r = min(running, key=lambda o: (o["next"], o["index"]))
        e = r["done"] + 1
        cost = epoch_seconds(r["row"], e)
        if (state["epochs"] + 1 > amount) if kind == "epochs" else (state["seconds"] + cost > amount):
            break
        state["clock"] = r["next"]
        state["epochs"] += 1
        state["seconds"] += cost
        acc = r["row"]["val_accuracy"]
        v = acc[e - 1] if e - 1 < len(acc) else None
        if v is None or not math.isfinite(v):
            trace.append((state["epochs"], state["seconds"], state["best"]))
            running.remove(r)
            study.tell(r["trial"], state=optuna.trial.TrialState.FAIL)
            start()
            continue
        r["done"] = e
        r["next"] = state["clock"] + epoch_seconds(r["row"], e + 1)
        state["best"] = max(state["best"], v)
        trace.append((state["epochs"], state["seconds"], state["best"]))
        trial = r["trial"]
        if e >= epochs_max:
            running.remove(r)
            study.tell(trial, v)
            start()
            continue
        trial.report(v, e)
        if trial.should_prune():
            running.remove(r)
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            start()
    return trace, state["asked"]


def parse_objectives(text):
    out = []
    for part in [p for p in text.split(",") if p]:
        name, _, goal = part.partition(":")
        if name not in CURVES + NUMBERS:
            raise SystemExit(f"--objectives: {part!r}: expected name:goal with a name among {', '.join(CURVES + NUMBERS)}")
        if goal not in ("max", "min", "maximize", "minimize"):
            raise SystemExit(f"--objectives: {part!r}: expected the goal max or min after the colon, got {goal!r}")
        out.append((name, "maximize" if goal.startswith("max") else "minimize"))
    if not 2 <= len(out) <= 4:
        raise SystemExit(f"--objectives: expected 2 to 4 comma-separated name:goal pairs, got {len(out)}")
    return out


def failed_epoch(row, epochs):
    """The epoch a row's loss diverged in (no finite validation accuracy), or None; as failedEpoch in table-mo.ts."""
    acc = row["val_accuracy"]
    for e in range(1, epochs + 1):
        if e - 1 >= len(acc) or acc[e - 1] is None or not math.isfinite(acc[e - 1]):
            return e
    return None


def row_values(row, objectives, epochs):
    if failed_epoch(row, epochs) is not None:
        return None
    return [row[n][epochs - 1] if n in CURVES else row[n] for n, _ in objectives]


def trial_seconds(row, epochs):
    last = failed_epoch(row, epochs) or epochs
    return sum(epoch_seconds(row, e) for e in range(1, last + 1))


def make_mo_study(method, seed, objectives, population):
    if method == "random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    elif method in ("tpe", "tpe-mv"):
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=method == "tpe-mv")
    else:
        sampler = optuna.samplers.NSGAIISampler(seed=seed, population_size=50 if method == "nsga2" else population)
    return optuna.create_study(directions=[g for _, g in objectives], sampler=sampler)


def simulate_mo(lookup, header, method, seed, objectives, trials, in_flight, population):
    """One sweep of `trials` trials; returns the indices of the table rows its trials looked up, in finishing order."""
    epochs = header["fixed"]["epochs"]
    study = make_mo_study(method, seed, objectives, population)
    row_index = {id(r): i for i, r in enumerate(lookup.rows)}
    running, finished = [], []
    state = {"asked": 0, "clock": 0.0}

    def start():
        while len(running) < in_flight and state["asked"] < trials:
            trial = study.ask()
            params = {n: trial.suggest_categorical(n, values) for n, values in header["space"].items()}
            row = lookup.row(params)
            running.append({"trial": trial, "index": state["asked"], "row": row, "end": state["clock"] + trial_seconds(row, epochs)})
            state["asked"] += 1

    start()
    while running:
        r = min(running, key=lambda o: (o["end"], o["index"]))
        running.remove(r)
        state["clock"] = r["end"]
        finished.append(row_index[id(r["row"])])
        values = row_values(r["row"], objectives, epochs)
        if values is None:
            study.tell(r["trial"], state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(r["trial"], values)
        start()
    return finished


def regret_at(trace, kind, cost, best):
    found = -math.inf
    for ep, sec, b in trace:
        if (ep if kind == "epochs" else sec) > cost + 1e-9:
            break
        found = b
    return best - found if math.isfinite(found) else best


def percentile(xs, q):
    s = sorted(xs)
    pos = (len(s) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


_ctx = {}


def _init(path):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore")
    header, rows = read_table(path)
    _ctx["header"], _ctx["lookup"] = header, Lookup(header, rows)
    _ctx["best"] = max(v for r in rows for v in r["val_accuracy"] if v is not None and math.isfinite(v))


def _run_mo(task):
    method, seed, objectives, trials, in_flight, population = task
    return simulate_mo(_ctx["lookup"], _ctx["header"], method, seed, objectives, trials, in_flight, population)


def main_mo(a, p):
    """--objectives mode: see the module comment."""
    objectives = parse_objectives(a.objectives)
    methods = [m for m in (a.methods or ",".join(MO_METHODS)).split(",") if m]
    for m in methods:
        if m not in MO_METHODS:
            p.error(f"--methods: with --objectives expected a comma-separated list of {', '.join(MO_METHODS)}; got {m!r}")
    _init(a.table)
    tasks = [(m, s, objectives, a.budget_trials, a.in_flight, a.nsga2_population) for m in methods for s in range(a.first_seed, a.first_seed + a.seeds)]
    if a.jobs > 1:
        with Pool(a.jobs, initializer=_init, initargs=(a.table,)) as pool:
            outs = pool.map(_run_mo, tasks, chunksize=4)
    else:
        outs = [_run_mo(t) for t in tasks]
    results = [{"method": m, "orders": [o for t, o in zip(tasks, outs) if t[0] == m]} for m in methods]
    if a.json:
        json.dump({"optuna": optuna.__version__, "objectives": objectives, "results": results}, sys.stdout)
        return
    for r in results:
        print(f"optuna {r['method']}: rows per seed in finishing order (hypervolumes: npm run bench:search -- --table FILE --objectives ...)")
        for seed, order in zip(range(a.first_seed, a.first_seed + a.seeds), r["orders"]):
            print(f"  seed {seed}: {order}")


def _run(task):
    method, kind, amount, seed, in_flight, min_iter, eta = task
    trace, asked = simulate(_ctx["lookup"], _ctx["header"], method, seed, kind, amount, in_flight, min_iter, eta)
    return [regret_at(trace, kind, f * amount, _ctx["best"]) for f in FRACTIONS], asked


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--table", required=True)
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--budget-epochs", type=float, default=180)
    p.add_argument("--budget-seconds", type=float, help="default: budget-epochs times the table's mean epoch seconds")
    p.add_argument("--in-flight", type=int, default=4)
    p.add_argument("--min-iter", type=int, default=1)
    p.add_argument("--eta", type=int, default=3)
    p.add_argument("--methods", help="default " + ",".join(METHODS) + "; with --objectives " + ",".join(MO_METHODS))
    p.add_argument("--objectives", help="several objectives, e.g. val_accuracy:max,model_bytes:min (see the module comment)")
    p.add_argument("--budget-trials", type=int, default=60, help="with --objectives: trials per sweep")
    p.add_argument("--nsga2-population", type=int, default=12, help="with --objectives: nsga2-small's population")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.objectives is not None:
        return main_mo(a, p)
    methods = [m for m in (a.methods or ",".join(METHODS)).split(",") if m]
    for m in methods:
        if m not in METHODS:
            p.error(f"--methods: expected a comma-separated list of {', '.join(METHODS)}; got {m!r}")
    _init(a.table)
    header = _ctx["header"]
    rows = _ctx["lookup"].rows
    if a.budget_seconds is None:
        per = [sum(r["seconds"]) / len(r["seconds"]) for r in rows if r["seconds"]]
        a.budget_seconds = round(a.budget_epochs * sum(per) / len(per) * 10) / 10
    budgets = {"epochs": a.budget_epochs, "seconds": a.budget_seconds}
    tasks = [(m, k, budgets[k], s, a.in_flight, a.min_iter, a.eta) for m in methods for k in ("epochs", "seconds") for s in range(a.first_seed, a.first_seed + a.seeds)]
    if a.jobs > 1:
        with Pool(a.jobs, initializer=_init, initargs=(a.table,)) as pool:
            outs = pool.map(_run, tasks, chunksize=4)
    else:
        outs = [_run(t) for t in tasks]
    results = []
    for m in methods:
        for k in ("epochs", "seconds"):
            mine = [o for t, o in zip(tasks, outs) if t[0] == m and t[1] == k]
            regrets = [[o[0][i] for o in mine] for i in range(len(FRACTIONS))]
            results.append({"method": m, "kind": k, "regrets": regrets, "trials": sum(o[1] for o in mine) / len(mine)})
    if a.json:
        json.dump({"optuna": optuna.__version__, "budgets": budgets, "best": _ctx["best"], "results": results}, sys.stdout)
        return
    print(f"{header['dataset']['name']} ({len(rows)} configurations, best {_ctx['best']:.4f}): optuna {optuna.__version__}, {a.seeds} seeds, {a.in_flight} in flight")
    for k in ("epochs", "seconds"):
        print(f"\nregret, budget {budgets[k]} {k}: mean / median / p90 over seeds")
        for r in results:
            if r["kind"] != k:
                continue
            cells = [f"{sum(x) / len(x):.4f} / {percentile(x, 50):.4f} / {percentile(x, 90):.4f}" for x in r["regrets"]]
            print(f"optuna  {r['method']:<18} {r['trials']:6.1f}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
