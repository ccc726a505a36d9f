"""The Merkle tree of RFC 9162 over stored complete subtrees: roots and proofs.

Every hash a root or a proof needs is the hash of some range of leaves, and every range
RFC 9162 asks for splits into complete, aligned subtrees (``Node``: a level and an index),
which the ledger stores once. So a proof is computed in two steps: name the nodes it needs
(:func:`parts`), fetch them in one go, and fold them (:func:`range_hash`). The verification
is the verifier's (``verifier.merkle``), which this module never needs.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence

from verifier.merkle import EMPTY_ROOT
from verifier.merkle import node_hash

Node = tuple[int, int]  # (level, index): leaves [index << level, (index + 1) << level)
Range = tuple[int, int]  # leaves [start, end)


def split(count: int) -> int:
    """Return the largest power of two below ``count`` (count of at least 2)."""
    return 1 << ((count - 1).bit_length() - 1)


def parts(start: int, end: int) -> list[Node]:
    """Return the complete subtrees whose hashes make the hash of leaves [start, end)."""
    count = end - start
    if count <= 0:
        return []
    if count & (count - 1) == 0 and start % count == 0:
        level = count.bit_length() - 1
        return [(level, start >> level)]
    middle = start + split(count)
    return parts(start, middle) + parts(middle, end)


def range_hash(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    """Return MTH(D[start:end]) from the hashes of its :func:`parts`."""
    count = end - start
    if count <= 0:
        return EMPTY_ROOT
    if count & (count - 1) == 0 and start % count == 0:
        level = count.bit_length() - 1
        return nodes[(level, start >> level)]
    middle = start + split(count)
    return node_hash(range_hash(start, middle, nodes), range_hash(middle, end, nodes))


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Return the ranges whose hashes are the inclusion path of leaf ``index`` (RFC 9162 PATH).

    The path runs from the leaf's sibling up to the root's other child.
    """
    path: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + split(end - start)
        if index < middle:
            path.append((middle, end))
            end = middle
        else:
            path.append((start, middle))
            start = middle
    return path[::-1]


def consistency_ranges(old: int, new: int) -> list[Range]:
    """Return the ranges whose hashes prove that ``new`` leaves extend ``old`` (RFC 9162 PROOF)."""
    if old <= 0 or old >= new:
        return []
    path: list[Range] = []
    start, end, remaining, whole = 0, new, old, True
    while end - start != remaining:
        middle = split(end - start)
        if remaining <= middle:
            path.append((start + middle, end))
            end = start + middle
        else:
            path.append((start, start + middle))
            start, remaining, whole = start + middle, remaining - middle, False
    if not whole:
        path.append((start, end))
    return path[::-1]


def needed(ranges: Iterable[Range]) -> set[Node]:
    """Return every node the hashes of ``ranges`` are made of."""
    return {node for start, end in ranges for node in parts(start, end)}


def hashes(ranges: Sequence[Range], nodes: Mapping[Node, bytes]) -> list[bytes]:
    """Return the hash of each range, in order."""
    return [range_hash(start, end, nodes) for start, end in ranges]


def grown(
    old: int, leaves: Sequence[bytes], *, stored: Callable[[Node], bytes]
) -> dict[Node, bytes]:
    """Return the complete subtrees that appending ``leaves`` to a tree of ``old`` completes.

    Level 0 are the new leaves' hashes. A new node's right child is always new; its left
    one may be older, and ``stored`` gives it (at most one a level).
    """
    new = old + len(leaves)
    made: dict[Node, bytes] = {(0, old + offset): leaf for offset, leaf in enumerate(leaves)}
    level = 1
    while new >> level:
        for index in range(old >> level, new >> level):
            left = (level - 1, 2 * index)
            right = (level - 1, 2 * index + 1)
            made[(level, index)] = node_hash(made.get(left) or stored(left), made[right])
        level += 1
    return made
