"""Softmax and log-softmax along an axis, as primitives: their forwards subtract the max (no
overflow for any finite input) and their rules are the compact closed forms."""
import numpy as np

from ..autodiff.primitive import defop


# ufunc reductions: np.max/np.sum add a Python layer that costs more than a small row's work
def _softmax(x, axis=-1):
    e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))
    e /= np.add.reduce(e, axis=axis, keepdims=True)  # e is fresh
    return e


def _log_softmax(x, axis=-1):
    z = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    z -= np.log(np.add.reduce(np.exp(z), axis=axis, keepdims=True))  # z is fresh
    return z


softmax = defop(
    "softmax", _softmax,
    vjp=[lambda ns, g, ans, x, axis=-1: ans * (g - ns.sum(g * ans, axis=axis, keepdims=True))],
    jvp=[lambda ns, t, ans, x, axis=-1: ans * (t - ns.sum(t * ans, axis=axis, keepdims=True))],
    saves="output", doc="exp(x) / sum(exp(x)) along axis, stable for any finite input.")

log_softmax = defop(
    "log_softmax", _log_softmax,
    vjp=[lambda ns, g, ans, x, axis=-1:
         g - ns.exp(ans) * ns.sum(g, axis=axis, keepdims=True)],
    jvp=[lambda ns, t, ans, x, axis=-1:
         t - ns.sum(ns.exp(ans) * t, axis=axis, keepdims=True)],
    saves="output", doc="x - logsumexp(x) along axis, stable for any finite input.")
