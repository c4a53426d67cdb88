"""Softmax and log-softmax along an axis, as primitives: their forwards subtract the max (no
overflow for any finite input) and their rules are the compact closed forms."""
import numpy as np

from ..autodiff.primitive import defop


def _softmax(x, axis=-1):
    z = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


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
