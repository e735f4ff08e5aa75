"""`softcal fit --data FILE.csv --l2 L --json` as a Python user runs it: the bench's whole-process reference.

Imports scikit-learn, reads the CSV (header, numeric features, label column last), fits softmax
regression (lbfgs, lambda = 1/(C*m)) and prints the coefficients as JSON.

    python3 bench/peer_fit.py FILE.csv 0.01
"""
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

path, lam = sys.argv[1], float(sys.argv[2])
table = np.genfromtxt(path, delimiter=",", skip_header=1)
X, y = table[:, :-1], table[:, -1].astype(int)
model = LogisticRegression(C=1.0 / (lam * len(y)), max_iter=1000).fit(X, y)
print(json.dumps({"coef": model.coef_.tolist(), "intercept": model.intercept_.tolist(), "iterations": int(model.n_iter_[0])}))
