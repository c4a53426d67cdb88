"""L-BFGS: a quasi-Newton method that builds its inverse-Hessian estimate from the last few
steps and gradient changes, with an optional strong-Wolfe line search (PyTorch's LBFGS)."""
import math

import numpy as np

from ..autodiff.grad_mode import enable_grad
from ..autodiff.state import mark_modified
from ..errors import ArgumentError, ShapeError
from ..sparse import RowSparse
from ..tensor import Tensor
from .lr_scheduler.base import check_count
from .optimizer import Optimizer, check_nonnegative

#: state entries that are flat vectors over all parameters, or lists of them
_FLAT, _FLAT_LISTS = ("d", "prev_flat_grad"), ("old_dirs", "old_stps")


def lbfgs_direction(grad, old_dirs, old_stps, ro, H_diag, al):
    """The L-BFGS direction d = -H g, by the two-loop recursion over the stored pairs
    (y_i = old_dirs[i], s_i = old_stps[i], ro_i = 1 / (y_i . s_i)), oldest first::

        q = -g
        for i from newest to oldest:  a_i = ro_i s_i . q;   q = q - a_i y_i
        r = H_diag q          (H_diag = y . s / y . y of the newest pair: the initial H)
        for i from oldest to newest:  b_i = ro_i y_i . r;   r = r + (a_i - b_i) s_i
        d = r

    ``al`` (a list at least as long as the history) receives the a_i."""
    q = np.negative(grad)
    for i in reversed(range(len(old_dirs))):
        al[i] = float(old_stps[i] @ q) * ro[i]
        q -= al[i] * old_dirs[i]
    r = np.multiply(q, H_diag, out=q)
    for i in range(len(old_dirs)):
        be_i = float(old_dirs[i] @ r) * ro[i]
        r += (al[i] - be_i) * old_stps[i]
    return r


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser, clipped to ``bounds`` (default: [x1, x2] ordered), of the cubic through
    (x1, f1) and (x2, f2) with slopes g1 and g2; the bounds' midpoint where the cubic has no
    real minimiser."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if not d2_square >= 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """A step t along d that satisfies the strong Wolfe conditions (Nocedal & Wright,
    algorithms 3.5 and 3.6, with cubic interpolation)::

        f(x + t d) <= f + c1 t gtd          (sufficient decrease)
        |g(x + t d) . d| <= -c2 gtd         (curvature)

    ``evaluate(t)`` returns the loss and flat gradient at x + t d; f, g and gtd = g . d are
    at x. The search first widens the step until it brackets such a point, then narrows
    the bracket, at most ``max_ls`` evaluations in all; it also stops when the bracket is
    shorter than ``tolerance_change`` in the largest coordinate of d (LBFGS passes the
    default 1e-9 whatever its own tolerance_change, as PyTorch). Returns (loss, flat
    gradient, t, evaluations) at the best point found."""
    d_norm = float(np.abs(d).max())
    g = g.copy()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    # bracketing: widen t until [t_prev, t] holds a point meeting the conditions
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        t_next = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new.copy(), gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket around a point meeting the conditions
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(bracket[0], bracket_f[0], bracket_gtd[0],
                           bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial point at (or near) an end of the bracket twice running moves a tenth of
        # the bracket inside, so the bracket keeps shrinking
        margin = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < margin:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - margin if abs(t - max(bracket)) < abs(t - min(bracket)) \
                    else min(bracket) + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new.copy(), gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new.copy(), gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


class LBFGS(Optimizer):
    """L-BFGS (Liu & Nocedal), as PyTorch's (after minFunc): each ``step(closure)`` runs up
    to ``max_iter`` iterations (``max_eval`` closure calls, default max_iter * 5 // 4) of
    x = x + t d, with d from :func:`lbfgs_direction` over the last ``history_size`` pairs
    (s = t d, y = change in gradient; a pair with y . s <= 1e-10 is skipped) and -g on the
    very first iteration. The step t is ``lr`` (the first iteration: min(1, 1 / sum|g|) lr),
    or from :func:`strong_wolfe` with ``line_search_fn="strong_wolfe"``. It stops early when
    max|g| <= ``tolerance_grad``, when g . d > -``tolerance_change``, or when the step or the
    loss change is below ``tolerance_change``. ``LBFGS(params, lr=1, max_iter=20,
    max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9, history_size=100,
    line_search_fn=None)``.

    ``closure()`` must clear the gradients, compute the loss, call ``backward()`` and return
    the loss; ``step`` returns the loss of its first call. One parameter group only (the
    history spans all parameters); its state (the history, "func_evals", "n_iter", ...)
    sits under the first parameter, as in PyTorch, with flat vectors over all parameters.
    Unlike PyTorch, an unknown ``line_search_fn`` and a ``max_iter``, ``max_eval`` or
    ``history_size`` below 1 are refused here (PyTorch refuses the first when it steps, does
    nothing for max_iter=0, takes max_eval=0 as 1 without the line search and fails with an
    UnboundLocalError with it, and fails with an IndexError for history_size=0), and a
    second parameter group is refused when it is added, not when ``step`` runs. Scalars
    (t, H_diag, ro, the line search's values) are Python floats: with float32 parameters
    PyTorch computes them in float32."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        check_nonnegative("LBFGS", lr=lr)
        check_count("LBFGS", "max_iter", max_iter, "iterations per step")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        check_count("LBFGS", "max_eval", max_eval, "closure calls per step")
        check_count("LBFGS", "history_size", history_size, "pairs kept")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ArgumentError(f"LBFGS: line_search_fn={line_search_fn!r} is not allowed; "
                                "use None or 'strong_wolfe'")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))

    def add_param_group(self, group):
        """Refused once there is a group: L-BFGS keeps one history over all parameters."""
        if self.param_groups:
            raise ArgumentError("LBFGS doesn't support per-parameter options (parameter "
                                "groups): its history spans all parameters. Hint: pass all "
                                "the parameters in one list")
        super().add_param_group(group)

    @property
    def _params(self):
        return self.param_groups[0]["params"]

    def _flat_grad(self):
        """All gradients as one vector (zeros for a parameter without one)."""
        parts = []
        for p in self._params:
            g = p.grad.data if p.grad is not None else np.zeros_like(p.data)
            parts.append((g.to_dense() if type(g) is RowSparse else g).ravel())
        return np.concatenate(parts)

    def _move(self, t, d):
        """x = x + t d, in place."""
        offset = 0
        for p in self._params:
            n = p.data.size
            p.data += t * d[offset:offset + n].reshape(p.data.shape)
            mark_modified(p)
            offset += n

    def _set(self, values):
        for p, value in zip(self._params, values):
            np.copyto(p.data, value)
            mark_modified(p)

    def _evaluate_at(self, closure, x, d):
        """``evaluate(t)`` for :func:`strong_wolfe`: loss and flat gradient at x + t d, then
        the parameters are put back to x."""
        def evaluate(t):
            self._move(t, d)
            with enable_grad():
                loss = float(closure())
            flat_grad = self._flat_grad()
            self._set(x)
            return loss, flat_grad
        return evaluate

    def step(self, closure):
        """Up to ``max_iter`` L-BFGS iterations; returns the loss of the first closure
        call (before any move)."""
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss = (
            state.get(k) for k in ("d", "t", "old_dirs", "old_stps", "ro", "H_diag",
                                   "prev_flat_grad", "prev_loss"))
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = np.negative(flat_grad)
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:  # else the pair would break H's positive definiteness
                    if len(old_dirs) == history_size:
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y @ y)
                al = state.setdefault("al", [None] * history_size)
                d = lbfgs_direction(flat_grad, old_dirs, old_stps, ro, H_diag, al)
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            # the first step is scaled so that it moves by at most lr in the 1-norm
            t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr \
                if state["n_iter"] == 1 else lr
            gtd = float(flat_grad @ d)
            if gtd > -tolerance_change:  # not a descent direction (any more)
                break

            evals = 0
            if group["line_search_fn"] is not None:
                x = [p.data.copy() for p in self._params]
                loss, flat_grad, t, evals = strong_wolfe(
                    self._evaluate_at(closure, x, d), t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._move(t, d)
                converged = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._move(t, d)
                converged = False
                if n_iter != max_iter:  # the last move is evaluated by the next step()
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._flat_grad()
                    converged = np.abs(flat_grad).max() <= tolerance_grad
                    evals = 1
            current_evals += evals
            state["func_evals"] += evals

            if n_iter == max_iter or current_evals >= max_eval or converged:
                break
            if np.abs(d * t).max() <= tolerance_change or \
                    abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    def load_state_dict(self, state_dict):
        """As :meth:`Optimizer.load_state_dict`; the flat vectors ("d", "prev_flat_grad",
        "old_dirs", "old_stps") must have one entry per element of all the parameters."""
        saved = {int(k): dict(v) for k, v in state_dict["state"].items()}
        flat = {k: saved[0].pop(k) for k in _FLAT + _FLAT_LISTS if k in saved.get(0, {})}
        super().load_state_dict({**state_dict, "state": saved})
        if not flat:
            return
        n = sum(p.data.size for p in self._params)
        dtype = np.result_type(*(p.data for p in self._params))

        def cast(name, value):
            arr = np.array(value.data if isinstance(value, Tensor) else value, dtype=dtype)
            if arr.shape != (n,):
                raise ShapeError(f"LBFGS.load_state_dict: state {name!r} has shape "
                                 f"{arr.shape} but the parameters have {n} elements in all, "
                                 f"so it must have shape ({n},)")
            return arr

        own = self.state[self._params[0]]
        for k, v in flat.items():
            if k in _FLAT_LISTS:
                own[k] = [cast(k, a) for a in v]
            else:
                own[k] = None if v is None else cast(k, v)
