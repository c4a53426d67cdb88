"""Every public name has a docstring and is mentioned in the README or docs/."""
import importlib
import re
import types

import pytest

from conftest import REPO

MODULES = ["wengert", "wengert.nn", "wengert.nn.functional", "wengert.nn.init", "wengert.nn.utils", "wengert.optim",
           "wengert.optim.lr_scheduler", "wengert.data", "wengert.train", "wengert.check",
           "wengert.autograd", "wengert.viz", "wengert.models.word2vec", "wengert.linalg"]


def _public(modname):
    mod = importlib.import_module(modname)
    names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
    for n in names:
        obj = getattr(mod, n)
        if isinstance(obj, types.ModuleType) or not callable(obj):
            continue
        yield n, obj


def _docs_text():
    texts = [(REPO / "README.md").read_text()] if (REPO / "README.md").exists() else []
    texts += [p.read_text() for p in (REPO / "docs").glob("*.md")]
    return "\n".join(texts)


@pytest.mark.parametrize("modname", MODULES)
def test_public_names_are_documented(modname):
    docs = _docs_text()
    undocumented = [n for n, obj in _public(modname) if not (obj.__doc__ or "").strip()]
    assert not undocumented, f"{modname}: public names without a docstring: {undocumented}"
    missing = [n for n, _ in _public(modname) if not re.search(rf"\b{re.escape(n)}\b", docs)]
    assert not missing, f"{modname}: public names not mentioned in README/docs: {missing}"
