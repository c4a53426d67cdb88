"""``torch.nn.utils.stateless``: :func:`functional_call`, the same function as
:func:`wengert.functional.functional_call` (torch keeps this older home for it)."""
from ...functional.module_call import functional_call

__all__ = ["functional_call"]
