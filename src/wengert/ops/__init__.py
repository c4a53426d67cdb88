"""The primitives, by family. Importing this package registers them all and attaches the
Tensor operators (:mod:`wengert.ops.methods`)."""
from . import activation, elementwise, index, linalg, reduce, shape  # noqa: F401  (registers)
from . import layer, loss  # noqa: F401  (registers the fused nn primitives)
from . import sgns  # noqa: F401  (registers the sliding windows behind word2vec)
from . import conv  # noqa: F401  (registers conv, conv_transpose, conv_weight)
from . import pooling  # noqa: F401  (registers pool_gather, window_sum and their adjoints)
from . import decompositions  # noqa: F401  (registers inv, det, solve, eigh, svd, qr...)
from . import cumulative, structure  # noqa: F401  (registers cumsum, roll, diagonal...)
from . import methods  # noqa: F401  (installs Tensor operators)
