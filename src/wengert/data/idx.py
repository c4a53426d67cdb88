"""The IDX file format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), read with
NumPy and validated: every problem is a :class:`DatasetError` naming the file and what is
wrong.

Layout: two zero bytes, a type code, the number of dimensions d; then d big-endian uint32
sizes; then the values, big-endian, in C order. ``.gz`` files are decompressed first."""
import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from ..errors import DatasetError

# type code -> big-endian dtype
IDX_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _read_bytes(path):
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DatasetError(f"{path}: the gzip stream is corrupt or truncated ({exc}). Hint: "
                           "delete the file and download it again") from None


def read_idx(path):
    """The array stored in the IDX file ``path`` (``.gz`` or uncompressed), in native byte
    order (a read-only view of the decompressed bytes when no byte swap is needed). Raises
    :class:`DatasetError` for a bad magic number, a truncated file or trailing bytes, and
    ``FileNotFoundError`` when it is missing."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DatasetError(f"{path}: {len(raw)} bytes is too short for an IDX header (4 bytes "
                           "of magic number)")
    zero, code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or code not in IDX_DTYPES:
        raise DatasetError(f"{path}: bad magic number 0x{raw[:4].hex()}; an IDX file starts "
                           f"with two zero bytes and a type code in "
                           f"{[hex(c) for c in IDX_DTYPES]}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path}: truncated header: {ndim} dimensions need {header} bytes, "
                           f"the file has {len(raw)}")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    # Python ints: a corrupt header's sizes can multiply past 2**63, which int64 would wrap
    # (4 sizes of 65536 to 0) and so pass an empty body as complete
    expected = math.prod(shape) * dtype.itemsize
    found = len(raw) - header
    if found < expected:
        raise DatasetError(f"{path}: truncated: shape {shape} of {dtype.name} needs {expected} "
                           f"bytes of data, the file has {found}")
    if found > expected:
        raise DatasetError(f"{path}: {found - expected} unexpected bytes after the data of "
                           f"shape {shape}")
    data = np.frombuffer(raw, dtype, count=expected // dtype.itemsize, offset=header)
    return data.reshape(shape).astype(dtype.newbyteorder("="), copy=False)
