#!/usr/bin/env python3
"""The reference side of `npm run bench`: a long-lived process that times numpy / scikit-learn /
scipy on data that the bench wrote (bench/data.ts: raw little-endian float64 / int32 files), so both
sides run on the same data, interleaved, in one benchmark run.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout.
  {"cmd": "hello"}                                  -> versions (null = not installed)
  {"cmd": "gd", "x", "y", "m", "d", "K", "alpha", "iters"}
        the lesson's numpy gradient descent (properties/reference/lesson_softmax.py, imported as is)
        -> {"ms", "msPerIter", "theta"}
  {"cmd": "dataset", "name": "digits"|"iris", "x", "y"}
        writes scikit-learn's bundled data set, standardized (mean 0, std 1; constant columns
        unchanged) -> {"m", "d", "K"}
  {"cmd": "sk_fit", "x", "y", "m", "d", "K", "l2", "out"}
        LogisticRegression(C = 1/(l2*m), lbfgs, default tol 1e-4, max_iter 10000); writes
        predict_proba to "out" -> {"ms", "nIter"}
  {"cmd": "temp", "z", "y", "n", "K"}
        temperature scaling with scipy.optimize.minimize_scalar(method="bounded", bounds=(0.05, 20))
        on NLL(softmax(Z/T)) -> {"ms", "T", "nfev"}
Timings cover the computation only (data already in memory).
"""
import importlib.util
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "lesson_softmax", os.path.join(HERE, "..", "properties", "reference", "lesson_softmax.py")
)
lesson = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lesson)

try:
    import sklearn
    from sklearn.linear_model import LogisticRegression
except ImportError:  # the sklearn rows are then skipped
    sklearn = None
try:
    import scipy
    from scipy.optimize import minimize_scalar
except ImportError:
    scipy = None

_cache = {}


def load(req):
    key = (req["x"], req["y"])
    if key not in _cache:
        X = np.fromfile(req["x"], dtype="<f8").reshape(req["m"], req["d"])
        y = np.fromfile(req["y"], dtype="<i4").astype(np.int64)
        _cache.clear()
        _cache[key] = (X, y)
    return _cache[key]


def handle(req):
    cmd = req["cmd"]
    if cmd == "hello":
        return {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "sklearn": sklearn.__version__ if sklearn else None,
            "scipy": scipy.__version__ if scipy else None,
        }
    if cmd == "gd":
        X, y = load(req)
        Xb = np.c_[np.ones(len(y)), X]
        t0 = time.perf_counter()
        theta, _ = lesson.gradient_descent(Xb, y, req["K"], req["alpha"], req["iters"])
        ms = (time.perf_counter() - t0) * 1000
        return {"ms": ms, "msPerIter": ms / req["iters"], "theta": theta.ravel().tolist()}
    if cmd == "dataset":
        from sklearn import datasets

        X, y = (datasets.load_digits if req["name"] == "digits" else datasets.load_iris)(return_X_y=True)
        sd = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        X.astype("<f8").tofile(req["x"])
        y.astype("<i4").tofile(req["y"])
        return {"m": int(X.shape[0]), "d": int(X.shape[1]), "K": int(y.max() + 1)}
    if cmd == "sk_fit":
        X, y = load(req)
        C = 1.0 / (req["l2"] * req["m"])
        t0 = time.perf_counter()
        clf = LogisticRegression(C=C, max_iter=10000).fit(X, y)
        ms = (time.perf_counter() - t0) * 1000
        clf.predict_proba(X).astype("<f8").tofile(req["out"])
        return {"ms": ms, "nIter": int(np.max(clf.n_iter_))}
    if cmd == "temp":
        Z = np.fromfile(req["z"], dtype="<f8").reshape(req["n"], req["K"])
        y = np.fromfile(req["y"], dtype="<i4").astype(np.int64)
        rows = np.arange(len(y))

        def nll(T):
            s = Z / T
            s = s - s.max(axis=1, keepdims=True)
            return float(np.mean(np.log(np.exp(s).sum(axis=1)) - s[rows, y]))

        t0 = time.perf_counter()
        res = minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded")
        ms = (time.perf_counter() - t0) * 1000
        return {"ms": ms, "T": float(res.x), "nfev": int(res.nfev)}
    raise ValueError(f"unknown command {cmd!r}")


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            out = handle(json.loads(line))
        except Exception as e:  # reported to the TS side, which prints it in the row
            out = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
