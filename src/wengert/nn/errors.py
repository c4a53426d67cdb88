"""What ``wengert.nn`` and ``wengert.optim`` add to :mod:`wengert.errors`: the check that
names the allowed values of a choice."""
from ..errors import ArgumentError, StateDictError  # noqa: F401  (nn's errors, one import)


def check_choice(where, name, value, allowed):
    """``value`` if it is one of ``allowed``, else an :class:`ArgumentError` listing them."""
    if value not in allowed:
        raise ArgumentError(f"{where}: {name}={value!r} is not allowed; use one of "
                            f"{', '.join(repr(a) for a in allowed)}")
    return value
