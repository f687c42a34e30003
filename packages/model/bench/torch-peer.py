"""PyTorch peer of sweepq's training benchmark (bench/train-bench.ts): the same seed model trained by PyTorch.

Model: Embedding(vocab, embedding) -> LSTM(units) -> Linear(units, 2) on the last output; Adam (lr 1e-3),
cross-entropy; random token batches of shape [batch, seq_len]. Variants as sweepq's architecture parameters:
--cell gru, --layers N (stacked), --bidirectional (both directions' last outputs concatenated, as Keras'
Bidirectional(merge_mode='concat') of a last-output layer), --lengths L1,L2,... (one real length per batch row: the
batch is cut to its longest row and packed with pack_padded_sequence, so padded steps are skipped, as with
Keras' mask_zero). Thread count as given (the benchmark passes 1; it also
sets OPENBLAS_NUM_THREADS for the process).

Two modes:
  --serve   line protocol on stdin/stdout, so the benchmark can alternate PyTorch and sweepq steps in one run:
            prints {"ready": ...} after building the model and running the warm-up steps, then for each input line
            "steps N" runs N training steps and prints {"ms": [per-step milliseconds]}; "quit" (or EOF) exits.
  default   runs the warm-up and --steps timed steps and prints one JSON object with every step time.
"""
import argparse
import json
import sys
import time

import torch
from torch import nn


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seq-len", type=int, default=100)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--embedding", type=int, default=64)
    p.add_argument("--vocab", type=int, default=10000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--serve", action="store_true")
    p.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--lengths", type=str, default="")
    a = p.parse_args()
    lengths = [int(v) for v in a.lengths.split(",")] if a.lengths else None
    if lengths is not None and (len(lengths) != a.batch or not all(1 <= v <= a.seq_len for v in lengths)):
        p.error(f"--lengths: expected {a.batch} integers in [1, {a.seq_len}], got {a.lengths!r}")
    if a.layers < 1:
        p.error(f"--layers: expected an integer >= 1, got {a.layers}")
    for name in ("seq_len", "batch", "units", "embedding", "vocab", "threads", "steps"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')}: expected an integer >= 1, got {getattr(a, name)}")

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(a.vocab, a.embedding)
            rnn = nn.LSTM if a.cell == "lstm" else nn.GRU
            self.rnn = rnn(a.embedding, a.units, num_layers=a.layers, bidirectional=a.bidirectional, batch_first=True)
            self.fc = nn.Linear(a.units * (2 if a.bidirectional else 1), 2)

        def forward(self, x: torch.Tensor, lens: "torch.Tensor | None") -> torch.Tensor:
            e = self.emb(x)
            if lens is not None:
                e = nn.utils.rnn.pack_padded_sequence(e, lens, batch_first=True, enforce_sorted=False)
            _, h = self.rnn(e)
            h = h[0] if a.cell == "lstm" else h
            # h: [layers * directions, B, units]; the last layer's final states (forward, then backward).
            last = torch.cat([h[-2], h[-1]], dim=1) if a.bidirectional else h[-1]
            return self.fc(last)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    # With --lengths each batch is as long as its longest row (post-padded, as pack_padded_sequence wants).
    width = max(lengths) if lengths is not None else a.seq_len
    lens = torch.tensor(lengths) if lengths is not None else None
    batches = [
        (torch.randint(1, a.vocab, (a.batch, width)), torch.randint(0, 2, (a.batch,)))
        for _ in range(4)
    ]
    counter = [0]

    def step() -> float:
        x, y = batches[counter[0] % len(batches)]
        counter[0] += 1
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(net(x, lens), y)
        loss.backward()
        opt.step()
        return (time.perf_counter() - t0) * 1000.0

    for _ in range(a.warmup):
        step()
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_name()}
    if not a.serve:
        print(json.dumps({**info, "ms": [step() for _ in range(a.steps)]}), flush=True)
        return
    print(json.dumps({"ready": info}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] != "steps" or len(cmd) != 2 or not cmd[1].isdigit():
            print(json.dumps({"error": f"expected 'steps N' or 'quit', got {line.strip()!r}"}), flush=True)
            continue
        print(json.dumps({"ms": [step() for _ in range(int(cmd[1]))]}), flush=True)


def blas_name() -> str:
    """The BLAS library this process has loaded (Debian's torch calls whichever libblas.so.3 the system provides)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            maps = f.read()
    except OSError:
        return "unknown"
    for name in ("openblas", "mkl", "blis", "atlas"):
        if name in maps:
            return name
    return "reference" if "libblas" in maps else "unknown"


if __name__ == "__main__":
    main()
