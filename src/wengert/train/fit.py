"""The training loop: ``fit`` and ``evaluate``.

One step is the straight line of the guide: batch -> ``model`` -> ``loss_fn`` ->
``backward()`` -> ``optimizer.step()``. Around it: running metrics and a progress bar, a stop
on a non-finite loss, validation, the LR schedule, callbacks, and checkpoints from which a
run resumes bit-exactly, at an epoch boundary or in the middle of an epoch."""
import itertools
import math
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ArgumentError, NonFiniteLossError
from ..nn.utils import clip_grad_norm_
from .checkpoint import load_checkpoint, save_checkpoint
from .history import History
from .inference import inference
from .metrics import Totals, metric_functions
from .progress import EpochBar
from .state_file import CheckpointError


@dataclass
class FitState:
    """What callbacks see: set ``stop`` to a reason to end training after this epoch."""
    model: object
    optimizer: object
    scheduler: object
    history: History
    epoch: int = 0  # epochs completed
    step: int = 0  # optimizer steps taken
    stop: str = None


@dataclass
class _Resume:
    """Where a checkpoint taken mid-epoch left off."""
    batch: int
    order: object
    totals: dict
    batch_size: int = None  # the loader's; None in files from before it was saved


def fit(model, loss_fn, optimizer, train_loader, epochs, val_loader=None,
        metrics=("accuracy",), scheduler=None, callbacks=(), checkpoint=None, resume=False,
        progress=True, clip_grad_norm=None):
    """Train ``model`` for ``epochs`` epochs and return the :class:`History`.

    Each batch is ``(*inputs, target)``; the step minimises ``loss_fn(model(*inputs),
    target)``. ``metrics`` are names ("accuracy") or functions ``fn(outputs, targets)``,
    averaged over samples like the loss; with ``val_loader`` they are also measured on it
    (as ``val_*``). ``scheduler.step()`` runs after each epoch. ``callbacks`` are
    :class:`~wengert.train.Callback` objects (e.g. :class:`EarlyStopping`).

    With ``checkpoint=PATH`` the full state (model, optimizer, scheduler, epoch, history,
    RNG states, the epoch's sample order) is saved there after every epoch, and on Ctrl-C:
    the first interrupt finishes the current step (or the epoch's validation and save),
    saves, and returns (``history.stopped`` says so); ``resume=True`` continues from
    ``PATH`` exactly as if never stopped.

    A loader that yields no batches (``drop_last=True`` with fewer samples than
    ``batch_size``) raises :class:`ArgumentError`: there is nothing to average.

    A NaN or Inf loss raises :class:`NonFiniteLossError` before that step updates anything.
    With ``clip_grad_norm=c`` each step's gradients are scaled to a total 2-norm of at most
    ``c`` before the update (:func:`wengert.nn.utils.clip_grad_norm_`).
    """
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ArgumentError(f"fit: clip_grad_norm must be a positive number, got "
                            f"{clip_grad_norm}")
    functions = metric_functions(metrics)
    callbacks = list(callbacks)
    state = FitState(model, optimizer, scheduler, History())
    where = None
    if resume:
        where = _restore(checkpoint, state, train_loader, val_loader, callbacks)
    for name, loader in (("train_loader", train_loader), ("val_loader", val_loader)):
        if loader is not None and _length(loader) == 0:
            raise _no_batches(f"fit: {name}", loader)
    generators = _loader_generators(train_loader, val_loader)
    model.train()
    for callback in callbacks:
        callback.on_train_begin(state)
    interrupted = False
    with _DeferredInterrupt() as interrupt:
        while state.epoch < epochs and state.stop is None:
            totals = Totals(functions, where and where.totals)
            start, order = (where.batch, where.order) if where else (0, None)
            order, batches = _epoch_batches(train_loader, order, start)
            bar = EpochBar(state.epoch + 1, epochs, _length(train_loader), start, progress)
            try:
                done = _train_epoch(state, loss_fn, batches, start, totals, bar, interrupt,
                                    callbacks, clip_grad_norm)
            except BaseException:
                bar.close()
                raise
            where = None
            if interrupt.requested:
                bar.close()
                if checkpoint is not None:
                    _save(checkpoint, state, generators, callbacks,
                          resume={"batch": done, "order": order, "totals": totals.state_dict(),
                                  "batch_size": getattr(train_loader, "batch_size", None)})
                state.stop = _interrupted(f"interrupted in epoch {state.epoch + 1} after batch "
                                          f"{done - 1} (step {state.step})", checkpoint)
                interrupted = True
                break
            if totals.count == 0:
                raise _no_batches(f"fit: train_loader in epoch {state.epoch + 1}", train_loader)
            logs = _end_epoch(state, totals, loss_fn, val_loader, functions, callbacks)
            bar.close(logs)
            if checkpoint is not None:
                _save(checkpoint, state, generators, callbacks)
            if interrupt.requested:  # Ctrl-C during the validation or the save: stop here
                state.stop = _interrupted(f"interrupted after epoch {state.epoch} (step "
                                          f"{state.step})", checkpoint)
                interrupted = True
                break
    if not interrupted:  # a paused run has not ended: its callbacks will go on after resume
        for callback in callbacks:
            callback.on_train_end(state)
    state.history.stopped = state.stop
    return state.history


def evaluate(model, loss_fn, loader, metrics=("accuracy",)):
    """The sample-averaged loss and metrics of ``model`` over ``loader``, in eval mode and
    without recording a graph: ``{"loss": ..., "accuracy": ...}``."""
    totals = Totals(metric_functions(metrics))
    with inference(model):
        for *inputs, target in loader:
            output = model(*inputs)
            totals.add(len(target), loss_fn(output, target).item(), output.data, target.data)
    if totals.count == 0:
        raise _no_batches("evaluate: the loader", loader)
    return totals.means()


def _no_batches(what, loader):
    """The error for a loader that yields no batch, where a mean would be 0 / 0."""
    sizes = ""
    if getattr(loader, "drop_last", False) and hasattr(loader, "dataset"):
        sizes = (f" ({len(loader.dataset)} samples, batch_size={loader.batch_size}, "
                 "drop_last=True)")
    return ArgumentError(f"{what} yields no batches{sizes}, so there is no loss to average. "
                         "Hint: a batch_size no larger than the dataset, drop_last=False, or "
                         "a loader that can be iterated again each epoch (a list, a "
                         "DataLoader; not a generator, which is spent after one pass)")


def _train_epoch(state, loss_fn, batches, start, totals, bar, interrupt, callbacks,
                 clip_grad_norm):
    """Run the epoch's batches; returns how many batches of the epoch are done."""
    model, optimizer = state.model, state.optimizer
    began, base = time.perf_counter(), totals.seconds
    done = start
    for index, (*inputs, target) in enumerate(batches, start):
        output = model(*inputs)
        loss = loss_fn(output, target)
        value = loss.item()
        if not math.isfinite(value):
            raise NonFiniteLossError(
                f"the loss is {value} at step {state.step + 1} (epoch {state.epoch + 1}, "
                f"batch {index}); training stopped before this step changed the parameters. "
                f"Hint: lower the learning rate (now {optimizer.param_groups[0]['lr']}), check "
                "the inputs and targets for NaN/Inf, or run under wengert.detect_anomaly() "
                "to find the op that produced it")
        optimizer.zero_grad()
        loss.backward()
        if clip_grad_norm is not None:
            clip_grad_norm_(model.parameters(), clip_grad_norm)
        optimizer.step()
        state.step += 1
        totals.add(len(target), value, output.data, target.data)
        totals.seconds = base + time.perf_counter() - began
        bar.update(totals)
        done = index + 1
        for callback in callbacks:
            callback.on_batch_end(state, {"batch": index, "loss": value})
        if interrupt.requested:
            break
    return done


def _end_epoch(state, totals, loss_fn, val_loader, functions, callbacks):
    logs = {"epoch": state.epoch + 1, **totals.means()}
    if val_loader is not None:
        val = evaluate(state.model, loss_fn, val_loader, functions)
        logs.update({f"val_{k}": v for k, v in val.items()})
    logs.update(lr=state.optimizer.param_groups[0]["lr"], time=totals.seconds,
                samples_per_s=totals.count / totals.seconds)
    if state.scheduler is not None:
        state.scheduler.step()
    state.history.append(logs)
    state.epoch += 1
    for callback in callbacks:
        callback.on_epoch_end(state, logs)
    return logs


def _epoch_batches(loader, order, start):
    """The epoch's sample order (None when the loader cannot tell) and its batches from
    ``start``. A wengert DataLoader exposes its order, so a saved order replays exactly."""
    if hasattr(loader, "order") and hasattr(loader, "batches"):
        order = loader.order() if order is None else order
        return order, loader.batches(order, start)
    return None, itertools.islice(iter(loader), start, None)


def _length(loader):
    try:
        return len(loader)
    except TypeError:
        return None


def _loader_generators(train_loader, val_loader):
    """The loaders' own generators by checkpoint key. The validation loader's counts too: a
    shuffled one sums its batches in another order, so val_* would differ in the last bits."""
    return {"loader_rng": getattr(train_loader, "generator", None),
            "val_loader_rng": getattr(val_loader, "generator", None)}


def _save(path, state, generators, callbacks, **position):
    save_checkpoint(path, state.model, state.optimizer, state.scheduler,
                    epoch=state.epoch, step=state.step, history=dict(state.history),
                    **{key: None if g is None else g.get_state() for key, g in generators.items()},
                    callbacks={name: c.state_dict() for name, c in _named(callbacks).items()
                               if c.state_dict()}, **position)


def _interrupted(where, checkpoint):
    if checkpoint is None:
        return f"{where}; nothing saved (pass checkpoint=PATH to make runs resumable)"
    return f"{where}; saved {checkpoint}: resume=True continues from there"


def _restore(checkpoint, state, loader, val_loader, callbacks):
    if checkpoint is None:
        raise ArgumentError("fit: resume=True needs checkpoint=PATH to resume from")
    if not Path(checkpoint).is_file():
        raise FileNotFoundError(f"fit: resume=True but there is no checkpoint at {checkpoint}")
    extra = load_checkpoint(checkpoint, state.model, state.optimizer, state.scheduler)
    state.epoch, state.step = extra["epoch"], extra["step"]
    state.history = History(extra["history"])
    for key, generator in _loader_generators(loader, val_loader).items():
        if generator is not None and extra.get(key) is not None:  # older files lack val's
            generator.set_state(extra[key])
    named = _named(callbacks)
    unknown = sorted(set(extra["callbacks"]) - set(named))
    if unknown:
        raise CheckpointError(f"{checkpoint}: holds the state of callbacks {unknown} that this "
                              "run does not have; pass the same callbacks to resume")
    for name, saved in extra["callbacks"].items():
        named[name].load_state_dict(saved)
    if "resume" not in extra:
        return None
    where = _Resume(**extra["resume"])
    dataset = getattr(loader, "dataset", None)
    if where.order is not None and dataset is not None and len(where.order) != len(dataset):
        # the saved order would index past the end of a smaller dataset, or never visit the
        # new samples of a larger one
        raise CheckpointError(f"{checkpoint}: was saved in the middle of an epoch over "
                              f"{len(where.order)} samples, but this train_loader's dataset "
                              f"has {len(dataset)}; resume with the same training data")
    batch_size = getattr(loader, "batch_size", None)
    if where.batch_size is not None and batch_size != where.batch_size:
        # the epoch goes on from batch `where.batch`, a sample position in batches of the
        # saved size
        raise CheckpointError(f"{checkpoint}: was saved in the middle of an epoch after "
                              f"{where.batch} batches of {where.batch_size} samples, but this "
                              f"train_loader has batch_size={batch_size}; resume with the "
                              "same batch size")
    return where


def _named(callbacks):
    """Callbacks keyed by class name ("EarlyStopping", then "EarlyStopping#2", ...), so a
    resumed run matches saved callback state to its own callbacks."""
    named, counts = {}, {}
    for callback in callbacks:
        name = type(callback).__name__
        counts[name] = counts.get(name, 0) + 1
        named[name if counts[name] == 1 else f"{name}#{counts[name]}"] = callback
    return named


class _DeferredInterrupt:
    """Turns the first Ctrl-C into a flag the loop checks between steps, so a checkpoint is
    never taken halfway through an update; a second Ctrl-C interrupts at once. Signal
    handlers can only be set in the main thread; elsewhere Ctrl-C behaves as usual."""

    def __enter__(self):
        self.requested = False
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
