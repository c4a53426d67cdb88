"""Nested training state (dicts, lists, numbers, tensors, RNG states) in one safetensors file,
without pickle: arrays go into the safetensors body, everything else into a JSON document in
its metadata, with a SHA-256 over both so corruption is caught on load."""
import hashlib
import json
from pathlib import Path

import numpy as np
import safetensors
import safetensors.numpy

from ..atomic import atomic_write
from ..errors import ArgumentError, CheckpointError
from ..tensor import Tensor

FORMAT = "wengert-state/1"


def save_state(path, state):
    """Write the nested ``state`` to ``path`` atomically (see :func:`atomic_write`)."""
    arrays = {}
    document = json.dumps(_encode(state, (), arrays), separators=(",", ":"))
    metadata = {"format": FORMAT, "state": document, "sha256": _digest(arrays, document)}
    with atomic_write(path) as f:
        f.write(safetensors.numpy.save(arrays, metadata=metadata))


def load_state(path):
    """The nested state saved by :func:`save_state`; raises :class:`CheckpointError` naming
    the file when it is truncated, not a wengert state file, or fails its checksum."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        arrays = safetensors.numpy.load(raw)
    except safetensors.SafetensorError as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc}); it may be "
                              "truncated or overwritten") from None
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    metadata = header.get("__metadata__") or {}
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path}: format {metadata.get('format')!r} is not "
                              f"{FORMAT!r}; this safetensors file was not written by wengert")
    if not isinstance(metadata.get("state"), str):
        raise CheckpointError(f"{path}: the header says format {FORMAT!r} but holds no 'state' "
                              "document; the file is corrupt")
    digest = _digest(arrays, metadata["state"])
    if digest != metadata.get("sha256"):
        raise CheckpointError(f"{path}: bad checksum (stored {metadata.get('sha256')}, "
                              f"computed {digest}); the file is corrupt")
    return _decode(json.loads(metadata["state"]), arrays)


def _digest(arrays, document):
    h = hashlib.sha256(document.encode())
    for key in sorted(arrays):
        a = arrays[key]
        h.update(f"{key}|{a.dtype.str}|{a.shape}".encode())
        h.update(np.asarray(a, order="C").data)
    return h.hexdigest()


# JSON cannot hold arrays, tuples, non-string keys or NumPy scalars; these markers stand in
# for them ("$" keys never clash because str-keyed dicts using "$" are written as pairs too).
def _encode(obj, path, arrays):
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        key = "/".join(path)
        if key in arrays:
            raise ArgumentError(f"save_state: two entries map to the tensor name {key!r}")
        kind = "$tensor" if isinstance(obj, Tensor) else \
            "$array" if isinstance(obj, np.ndarray) else "$scalar"
        arrays[key] = np.asarray(obj.data if isinstance(obj, Tensor) else obj, order="C")
        return {kind: key}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in obj):
            return {k: _encode(v, path + (k,), arrays) for k, v in obj.items()}
        return {"$pairs": [[k, _encode(v, path + (str(k),), arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"$tuple": [_encode(v, path + (str(i),), arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, path + (str(i),), arrays) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save_state: cannot store {type(obj).__name__} at "
                    f"{'/'.join(path) or 'the top level'}; use tensors, arrays, numbers, "
                    "strings, lists, tuples and dicts")


def _decode(obj, arrays):
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "$tensor" in obj:
        return Tensor(arrays[obj["$tensor"]])
    if "$array" in obj:
        return arrays[obj["$array"]]
    if "$scalar" in obj:
        return arrays[obj["$scalar"]][()]
    if "$tuple" in obj:
        return tuple(_decode(v, arrays) for v in obj["$tuple"])
    if "$pairs" in obj:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in obj["$pairs"]}
    return {k: _decode(v, arrays) for k, v in obj.items()}
