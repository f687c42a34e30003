"""PyTorch peer of sweepq's training benchmark (bench/train-bench.ts): the same seed model trained by PyTorch.

Model: Embedding(vocab, embedding) -> LSTM(units) -> Linear(units, 2) on the last output; Adam (lr 1e-3),
cross-entropy; random token batches of shape [batch, seq_len]. Thread count as given (the benchmark passes 1; it also
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
    a = p.parse_args()
    for name in ("seq_len", "batch", "units", "embedding", "vocab", "threads", "steps"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')}: expected an integer >= 1, got {getattr(a, name)}")

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(a.vocab, a.embedding)
            self.lstm = nn.LSTM(a.embedding, a.units, batch_first=True)
            self.fc = nn.Linear(a.units, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out, _ = self.lstm(self.emb(x))
            return self.fc(out[:, -1])

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    batches = [
        (torch.randint(0, a.vocab, (a.batch, a.seq_len)), torch.randint(0, 2, (a.batch,)))
        for _ in range(4)
    ]
    counter = [0]

    def step() -> float:
        x, y = batches[counter[0] % len(batches)]
        counter[0] += 1
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(net(x), y)
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
