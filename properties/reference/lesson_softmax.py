#!/usr/bin/env python3
"""softcal's reference: the lesson's softmax regression by gradient descent, in numpy.

The algorithm of lesson 05 (the notebook softcal grew from), kept as the lesson wrote it so the
TypeScript implementation can be checked against it (parity tests) and timed beside it
(`npm run bench`) on the same data:

    Theta = 0 (K x (d+1), bias first);  repeat num_iters times:
        probs = softmax(X @ Theta.T);  grad = (probs - Y).T @ X / m
        Theta -= alpha * grad;  loss = -mean(sum(Y * log(probs + 1e-9)))   # loss of the probs *before* the update

Usage:
  lesson_softmax.py DATA.csv [--label COL] [--alpha 0.1] [--iters 300] [--repeat 1]
  lesson_softmax.py --synthetic M D K [--seed 0] [...]      (Gaussian blobs, no file)
Prints one JSON object: m, d, K, theta, lossHistory, msPerIter (median over --repeat runs,
compute only).
"""
import argparse
import json
import sys
import time

import numpy as np


def softmax(z):
    z = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=1, keepdims=True)


def gradient_descent(X, y, K, alpha, num_iters):
    m = X.shape[0]
    Theta = np.zeros((K, X.shape[1]))
    Y = np.zeros((m, K))
    Y[np.arange(m), y] = 1
    history = []
    for _ in range(num_iters):
        probs = softmax(X @ Theta.T)
        grad = (probs - Y).T @ X / m
        Theta -= alpha * grad
        history.append(-np.mean(np.sum(Y * np.log(probs + 1e-9), axis=1)))
    return Theta, history


def load_csv(path, label):
    with open(path, encoding="utf-8-sig") as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    li = header.index(label)
    return np.delete(data, li, axis=1), data[:, li].astype(int)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?")
    ap.add_argument("--label", default="label")
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--synthetic", nargs=3, type=int, metavar=("M", "D", "K"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.synthetic:
        m, d, K = a.synthetic
        rng = np.random.default_rng(a.seed)
        y = rng.integers(0, K, size=m)
        X_raw = rng.normal(0, 2, size=(K, d))[y] + rng.normal(size=(m, d))
    else:
        X_raw, y = load_csv(a.data, a.label)
        K = int(y.max()) + 1
    X = np.c_[np.ones(len(y)), X_raw]
    times = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        Theta, history = gradient_descent(X, y, K, a.alpha, a.iters)
        times.append((time.perf_counter() - t0) * 1000 / a.iters)
    json.dump({"m": int(X.shape[0]), "d": int(X.shape[1] - 1), "K": int(K), "theta": Theta.tolist(),
               "lossHistory": [float(v) for v in history], "msPerIter": float(np.median(times))}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
