"""The l2-sweep as a researcher writes it in Python: the bench's reference for `softcal run l2-sweep`.

Same grid and the same work per unit as softcal's l2-sweep (experiments/l2-sweep.ts): for every
data set x lambda x seed, a stratified 60/20/20 split (a synthetic clusters set is drawn afresh
per seed), features standardized on the training part, softmax regression fitted with
scikit-learn's LogisticRegression (lbfgs; lambda = 1/(C*m), lambda = 0 unpenalized), and on the
test part: accuracy, NLL, Brier, ECE (15 bins) with a 200-resample bootstrap interval, MCE,
class-wise ECE, mean confidence and the reliability bins. Units run in parallel with joblib; the
rows are written to a CSV. Not a port of softcal: plain numpy, the way the lesson's code reads.

    python3 bench/peer_l2_sweep.py --data DIR --seeds 100 --jobs 2 --out runs.csv
"""
import argparse
import csv
import os

import numpy as np
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

LAMBDAS = [0, 1e-4, 1e-3, 1e-2, 1e-1, 1]
BINS = 15
RESAMPLES = 200


def load(data_dir, name, rng):
    if name == "clusters":
        # The lesson's three Gaussian clusters, 60 points each, drawn afresh for every seed.
        means = np.array([[0.0, 0.0], [3.0, 3.0], [0.0, 4.0]])
        X = np.vstack([rng.normal(m, 1.0, size=(60, 2)) for m in means])
        y = np.repeat(np.arange(3), 60)
        return X, y
    table = np.genfromtxt(os.path.join(data_dir, name + ".csv"), delimiter=",", skip_header=1)
    return table[:, :-1], table[:, -1].astype(int)


def binned(p, o):
    """Per-bin counts, mean prediction and observed frequency over 15 equal-width bins."""
    which = np.minimum((p * BINS).astype(int), BINS - 1)
    n = np.bincount(which, minlength=BINS)
    sp = np.bincount(which, weights=p, minlength=BINS)
    so = np.bincount(which, weights=o, minlength=BINS)
    return n, sp, so


def ece_mce(conf, correct):
    n, sp, so = binned(conf, correct)
    full = n > 0
    gaps = np.abs(so[full] - sp[full]) / n[full]
    return float((n[full] * gaps).sum() / len(conf)), float(gaps.max())


def classwise_ece(P, y):
    total = 0.0
    for k in range(P.shape[1]):
        n, sp, so = binned(P[:, k], (y == k).astype(float))
        total += np.abs(so - sp).sum() / len(y)
    return total / P.shape[1]


def unit(data_dir, name, lam, seed):
    rng = np.random.default_rng(seed)
    X, y = load(data_dir, name, rng)
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, train_size=0.6, stratify=y, random_state=seed)
    _, X_test, _, y_test = train_test_split(X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    m = len(y_train)
    if lam == 0:
        model = LogisticRegression(penalty=None, max_iter=1000)
    else:
        model = LogisticRegression(C=1.0 / (lam * m), max_iter=1000)
    model.fit(X_train, y_train)
    P = model.predict_proba(X_test)
    n, K = P.shape
    onehot = np.eye(K)[y_test]
    conf = P.max(axis=1)
    correct = (P.argmax(axis=1) == y_test).astype(float)
    ece, mce = ece_mce(conf, correct)
    bins = binned(conf, correct)
    boot = []
    for _ in range(RESAMPLES):
        idx = rng.integers(0, n, n)
        boot.append(ece_mce(conf[idx], correct[idx])[0])
    return {
        "data": name,
        "l2": lam,
        "seed": seed,
        "accuracy": float((P.argmax(axis=1) == y_test).mean()),
        "nll": float(-np.log(np.clip(P[np.arange(n), y_test], 1e-300, None)).mean()),
        "brier": float(((P - onehot) ** 2).sum(axis=1).mean()),
        "ece": ece,
        "ece_lo": float(np.percentile(boot, 2.5)),
        "ece_hi": float(np.percentile(boot, 97.5)),
        "mce": mce,
        "classwise_ece": classwise_ece(P, y_test),
        "mean_confidence": float(P.max(axis=1).mean()),
        "weight_norm": float(np.linalg.norm(model.coef_)),
        "bins": int((bins[0] > 0).sum()),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="folder with iris.csv and penguins.csv")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    grid = [(name, lam, s) for name in ["clusters", "iris", "penguins"] for lam in LAMBDAS for s in range(args.seeds)]
    rows = Parallel(n_jobs=args.jobs)(delayed(unit)(args.data, *g) for g in grid)
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
