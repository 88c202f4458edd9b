#!/usr/bin/env python3
"""PyTorch-CPU peer of hgdtune's case-1 CNN, for throughput comparisons.

Trains the same network as cifar/cnn Case 1 (3x3 convs with same padding,
ReLU, 2x2 max pooling, two hidden fully connected layers, 10 outputs) with
SGD+momentum on random data, and prints one JSON line:
{"img_per_s": ..., "batch": ..., "threads": ..., "torch": "..."}.

Run with Debian's PyTorch: /usr/bin/python3 torch_cnn.py --batch 32
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn


def build(conv, fc, classes=10):
    c1, c2, c3 = conv
    f1, f2 = fc
    return nn.Sequential(
        nn.Conv2d(3, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c3 * 16, f1), nn.ReLU(),
        nn.Linear(f1, f2), nn.ReLU(),
        nn.Linear(f2, classes),
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--conv", default="32,64,128")
    p.add_argument("--fc", default="256,128")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    model = build([int(v) for v in a.conv.split(",")], [int(v) for v in a.fc.split(",")]).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    lossf = nn.CrossEntropyLoss()
    x = torch.randn(a.batch, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (a.batch,), device=dev)

    def step():
        opt.zero_grad()
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()

    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    for _ in range(5):  # warm up
        step()
    sync()
    n, start, cpu0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < a.seconds:
        step()
        n += 1
    sync()
    el, cpu = time.perf_counter() - start, time.process_time() - cpu0
    print(json.dumps({"img_per_s": n * a.batch / el, "img_per_cpu_s": n * a.batch / cpu, "batch": a.batch, "threads": a.threads,
                      "steps": n, "torch": torch.__version__, "device": a.device,
                      "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
