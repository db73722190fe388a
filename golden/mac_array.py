"""P-lane signed multiply-accumulate; twin of rtl/mac_array.v.

Each lane computes acc <- (clear ? 0 : acc) + a * b over signed operands, in an accumulator of
`acc_width` bits. The accumulator never wraps in a legal program (docs/numerics.md shows the bound);
`dot` raises if a sum would not fit, so a violation of the bound cannot pass silently.
"""
import numpy as np


def check_fits(acc, acc_width: int, what: str = "accumulator"):
    acc = np.asarray(acc, dtype=np.int64)
    lim = 1 << (acc_width - 1)
    if acc.size and (acc.max() >= lim or acc.min() < -lim):
        raise OverflowError(f"{what} exceeds {acc_width} bits: the numeric contract is violated")
    return acc


def dot(a, b, acc_width: int = 48) -> int:
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    return int(check_fits(np.sum(a * b), acc_width, "dot product"))


def stream(beats, p: int, acc_width: int = 48):
    """Beat-level twin of the rtl/mac_array.v stream: framed beats in, emitted accumulators out.

    beats: iterable of (a, b, first, last); a and b are length-p sequences of signed codes, first and
    last are bools. Per lane: acc <- (first ? 0 : acc) + a * b; a beat with `last` emits the p
    accumulators (after adding its own products). The accumulators are zero after reset, so a stream
    whose first beat lacks `first` starts from 0. Returns the list of emitted (p,) int64 arrays in
    order. Raises OverflowError if any running sum leaves `acc_width` bits (the RTL would wrap).
    """
    acc = np.zeros(p, dtype=np.int64)
    out = []
    for a, b, first, last in beats:
        a = np.asarray(a, dtype=np.int64).reshape(p)
        b = np.asarray(b, dtype=np.int64).reshape(p)
        if first:
            acc = np.zeros(p, dtype=np.int64)
        acc = check_fits(acc + a * b, acc_width, "lane accumulator")
        if last:
            out.append(acc.copy())
    return out
