"""Checkpoints: model, optimizer and scheduler state, the global RNG state and any extra
training state (epoch, history, ...) in one safetensors file written atomically."""
from pathlib import Path

from ..errors import WengertError
from ..random import default_generator
from .state_file import CheckpointError, load_state, save_state

SECTIONS = ("model", "optimizer", "scheduler", "rng", "extra")


def save_checkpoint(path, model, optimizer=None, scheduler=None, **extra):
    """Save ``model.state_dict()``, ``optimizer.state_dict()``, ``scheduler.state_dict()``,
    the global generator's state and the keyword arguments ``extra`` (tensors, arrays,
    numbers, strings, lists and dicts of them) to ``path``."""
    save_state(path, {
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "rng": default_generator().get_state(),
        "extra": extra})


def load_checkpoint(path, model, optimizer=None, scheduler=None, restore_rng=True):
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` (and ``optimizer``,
    ``scheduler`` when given); restore the global generator unless ``restore_rng=False``.
    Returns the ``extra`` dict. Raises :class:`CheckpointError` naming the file and what is
    wrong: a bad checksum, a truncated file, missing, unexpected or mis-shaped keys."""
    path = Path(path)
    state = load_state(path)
    if not isinstance(state, dict) or not set(SECTIONS) <= set(state):
        raise CheckpointError(f"{path}: a wengert state file but not a checkpoint (it lacks "
                              f"one of the sections {SECTIONS})")
    for name, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is None:
            continue
        if state[name] is None:
            article = "an" if name[0] in "aeiou" else "a"
            raise CheckpointError(f"{path}: holds no {name} state, but {article} {name} was "
                                  "given to load into; pass None for it or use a full "
                                  "checkpoint")
        try:
            obj.load_state_dict(state[name])
        except WengertError as exc:  # their messages name the keys and shapes; add the file
            raise CheckpointError(f"{path}: the {name} state does not fit: {exc}") from exc
    if restore_rng:
        default_generator().set_state(state["rng"])
    return state["extra"]

