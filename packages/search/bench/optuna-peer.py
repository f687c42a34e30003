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
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    methods = [m for m in a.methods.split(",") if m]
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
