"""The lecture's units, written with ``wengert.unit``, and its two-layer model with decay.

Each unit is a forward on NumPy arrays and a hand-written backward (``back(dy, y, *args)``),
plus a JVP for forward mode. The backward rules use only operators, methods and wengert
functions, so the same code runs on arrays in an ordinary backward pass and on tensors when it
is differentiated again: every unit here is differentiable twice.

    python examples/units.py     # gradient-checks each unit and the model (SEED item 19)
"""
import numpy as np

import wengert as wg
from wengert.blocks import block
from wengert.check import gradcheck
from wengert.units import unit


# --- affine: A = X W + b ------------------------------------------------------------------------
def _affine_back(dA, A, X, params):
    W, b = params
    return dA @ W.T, (X.T @ dA, dA.sum(axis=0))  # broadcasting b forward is a sum backward


def _affine_jvp(dargs, A, X, params):
    dX, (dW, db) = dargs
    W, b = params
    return dX @ W + X @ dW + db


@unit(back=_affine_back, jvp=_affine_jvp)
def affine(X, params):
    """A = X W + b for a batch X (m x n) and params = (W (n x k), b (k,))."""
    W, b = params
    return X @ W + b


# --- logistic: softmax + average cross-entropy over a mini-batch -------------------------------
def _logistic_back(dD, D, A, T):
    return dD * (wg.softmax(A, axis=1) - T) / A.shape[0], None  # dA = dD (Y - T) / m


def _logistic_jvp(dargs, D, A, T):
    dA, _ = dargs
    return ((wg.softmax(A, axis=1) - T) * dA).sum() / A.shape[0]


@unit(back=_logistic_back, jvp=_logistic_jvp)
def logistic(A, T):
    """D = -(1/m) sum_i sum_k T_ik log softmax(A)_ik for scores A (m x K) and one-hot T;
    log-softmax by subtracting the row max, so any finite score is safe."""
    Z = A - A.max(axis=1, keepdims=True)
    log_Y = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    return -(T * log_Y).sum() / A.shape[0]


# --- relu ---------------------------------------------------------------------------------------
def _relu_back(dZ, Z, A):
    return dZ * (A > 0)


def _relu_jvp(dargs, Z, A):
    (dA,) = dargs
    return dA * (A > 0)


@unit(back=_relu_back, jvp=_relu_jvp)
def relu(A):
    """Z = max(A, 0) element-wise; the gradient passes where A > 0."""
    return np.maximum(A, 0)


# --- decay: lambda/2 * sum of squared Frobenius norms -------------------------------------------
def _decay_back(dR, R, weights, lam):
    return tuple(dR * lam * W for W in weights), None  # dW += lambda W


def _decay_jvp(dargs, R, weights, lam):
    dweights, _ = dargs
    return sum((lam * W * dW).sum() for W, dW in zip(weights, dweights))


@unit(back=_decay_back, jvp=_decay_jvp)
def decay(weights, lam):
    """R = lambda/2 * sum_W ||W||_F^2 over a tuple of weight matrices."""
    return lam / 2 * sum(np.sum(W * W) for W in weights)


# --- add ----------------------------------------------------------------------------------------
def _add_back(dS, S, a, b):
    return dS, dS  # add distributes the gradient unchanged


def _add_jvp(dargs, S, a, b):
    da, db = dargs
    return da + db


@unit(back=_add_back, jvp=_add_jvp)
def add(a, b):
    """S = a + b."""
    return a + b


# --- the two-layer model with decay (SEED-EXAMPLES item 19) -------------------------------------
@block("two_layer")
def two_layer_loss(X, T, W1, b1, W2, b2, lam):
    """L = logistic(affine(relu(affine(X, (W1, b1))), (W2, b2)), T) + decay((W1, W2))."""
    A1 = affine(X, (W1, b1))
    Z = relu(A1)
    A2 = affine(Z, (W2, b2))
    return add(logistic(A2, T), decay((W1, W2), lam))


def example_batch(m=8, n=5, hidden=6, k=3, seed=0):
    """A small float64 batch and weights: (X, T, W1, b1, W2, b2)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    T = np.eye(k)[rng.integers(0, k, size=m)]
    return (X, T, rng.standard_normal((n, hidden)) * 0.5, rng.standard_normal(hidden) * 0.1,
            rng.standard_normal((hidden, k)) * 0.5, rng.standard_normal(k) * 0.1)


def main():
    X, T, W1, b1, W2, b2 = example_batch()
    lam = 0.1
    checks = {
        "affine": (lambda X, W, b: affine(X, (W, b)), (X, W1, b1)),
        "logistic": (lambda A: logistic(A, T), (X[:, :3],)),
        "relu": (relu, (X,)),
        "decay": (lambda W1, W2: decay((W1, W2), lam), (W1, W2)),
        "add": (add, (X, X[::-1].copy())),
        "two_layer": (lambda W1, b1, W2, b2: two_layer_loss(X, T, W1, b1, W2, b2, lam),
                      (W1, b1, W2, b2)),
    }
    for name, (f, inputs) in checks.items():
        report = gradcheck(f, inputs, order=2)
        worst = max(report.worst(i)[1] for i in {r.input for r in report.results})
        print(f"{name:10s} gradcheck (orders 1 and 2, reverse and forward) passed; "
              f"worst relative error {worst:.1e}")
    loss = two_layer_loss(*[wg.tensor(a) for a in (X, T, W1, b1, W2, b2)], lam)
    print(f"two-layer loss with decay: {loss.item():.6f}")


if __name__ == "__main__":
    main()
