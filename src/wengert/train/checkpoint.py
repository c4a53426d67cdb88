"""Checkpoints: model, optimizer and scheduler state, the states of the global generator and
of the model's own generators, and any extra training state (epoch, history, ...) in one
safetensors file written atomically."""
from pathlib import Path

from ..errors import WengertError
from ..random import Generator, default_generator
from .state_file import CheckpointError, load_state, save_state

SECTIONS = ("model", "optimizer", "scheduler", "rng", "extra")
# An optional section: checkpoints written before it existed lack it and still load.
MODULE_RNG = "module_rng"


def save_checkpoint(path, model, optimizer=None, scheduler=None, **extra):
    """Save ``model.state_dict()``, ``optimizer.state_dict()``, ``scheduler.state_dict()``,
    the states of the global generator and of the generators the model's modules own (see
    :func:`module_generators`) and the keyword arguments ``extra`` (tensors, arrays, numbers,
    strings, lists and dicts of them) to ``path``."""
    save_state(path, {
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "rng": default_generator().get_state(),
        MODULE_RNG: {key: g.get_state() for key, g in module_generators(model).items()},
        "extra": extra})


def module_generators(model):
    """``{"<module name>.<attribute>": Generator}`` for every :class:`Generator` a module of
    ``model`` holds as an attribute, e.g. ``{"2.generator": g}`` for
    ``Sequential(Linear, ReLU, Dropout(generator=g))``. A generator held by several modules
    comes once, under its first name; the global generator is left out (it is saved apart)."""
    found, seen = {}, {id(default_generator())}
    for prefix, module in model.named_modules():
        for name, value in vars(module).items():
            if isinstance(value, Generator) and id(value) not in seen:
                seen.add(id(value))
                found[f"{prefix}.{name}" if prefix else name] = value
    return found


def load_checkpoint(path, model, optimizer=None, scheduler=None, restore_rng=True):
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` (and ``optimizer``,
    ``scheduler`` when given); unless ``restore_rng=False``, restore the global generator
    and each of the model's own generators whose name the file holds (a file from before
    they were saved, or a generator the saved model did not have, leaves them as they are).
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
        saved = state.get(MODULE_RNG) or {}
        if model is not None:
            for key, generator in module_generators(model).items():
                if key in saved:
                    generator.set_state(saved[key])
    return state["extra"]

