"""RFC 9162 trees: the gateway's stored subtrees make the known roots, and every inclusion
and consistency proof it builds is accepted by the verifier, and a wrong one is refused."""

from __future__ import annotations

import pytest

from gateway.services import merkle
from verifier import merkle as rfc9162

# Certificate Transparency's test leaves and the roots of their first 1..8 (as hex).
LEAVES = [
    bytes.fromhex(x)
    for x in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")
    + ("606162636465666768696a6b6c6d6e6f",)
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _grow(leaves: list[bytes], batches: list[int]) -> dict[merkle.Node, bytes]:
    """Append leaf hashes in batches, as sequencer runs do; return every stored node."""
    nodes: dict[merkle.Node, bytes] = {}
    hashes = [rfc9162.leaf_hash(leaf) for leaf in leaves]
    size = 0
    for count in batches:
        nodes.update(merkle.grown(size, hashes[size : size + count], stored=nodes.__getitem__))
        size += count
    assert size == len(leaves)
    return nodes


@pytest.mark.parametrize("batches", [[8], [1] * 8, [3, 2, 3], [5, 3]])
def test_stored_subtrees_make_the_certificate_transparency_roots(batches: list[int]) -> None:
    nodes = _grow(LEAVES, batches)
    for size, root in enumerate(ROOTS, start=1):
        assert merkle.range_hash(0, size, nodes).hex() == root


def test_the_empty_tree_has_the_hash_of_nothing() -> None:
    assert merkle.range_hash(0, 0, {}).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


LEAF_COUNT = 37
TREE_LEAVES = [i.to_bytes(2, "big") for i in range(LEAF_COUNT)]
NODES = _grow(TREE_LEAVES, [1, 2, 5, 13, 16])


@pytest.mark.parametrize("size", range(1, LEAF_COUNT + 1))
def test_every_inclusion_proof_verifies_and_a_wrong_leaf_or_index_does_not(size: int) -> None:
    root = merkle.range_hash(0, size, NODES)
    for index in range(size):
        path = merkle.hashes(merkle.inclusion_ranges(index, size), NODES)
        leaf = rfc9162.leaf_hash(TREE_LEAVES[index])
        rfc9162.verify_inclusion(index, size, leaf, path, root)
        with pytest.raises(rfc9162.ProofError):
            rfc9162.verify_inclusion(index, size, rfc9162.leaf_hash(b"other"), path, root)
        if size > 1:
            with pytest.raises(rfc9162.ProofError):
                rfc9162.verify_inclusion((index + 1) % size, size, leaf, path, root)
    with pytest.raises(rfc9162.ProofError):
        rfc9162.verify_inclusion(size, size, rfc9162.leaf_hash(b""), [], root)


@pytest.mark.parametrize("new", range(1, LEAF_COUNT + 1))
def test_every_consistency_proof_verifies_and_a_rewritten_history_does_not(new: int) -> None:
    new_root = merkle.range_hash(0, new, NODES)
    for old in range(0, new + 1):
        old_root = merkle.range_hash(0, old, NODES)
        proof = merkle.hashes(merkle.consistency_ranges(old, new), NODES)
        rfc9162.verify_consistency(old, new, old_root, new_root, proof)
        if 0 < old < new:
            forged = rfc9162.node_hash(old_root, b"\x00" * 32)
            with pytest.raises(rfc9162.ProofError):
                rfc9162.verify_consistency(old, new, forged, new_root, proof)
            with pytest.raises(rfc9162.ProofError):
                rfc9162.verify_consistency(old, new, old_root, forged, proof)
            tampered = [bytes(32)] + proof[1:]
            with pytest.raises(rfc9162.ProofError):
                rfc9162.verify_consistency(old, new, old_root, new_root, tampered)


def test_a_consistency_proof_refuses_a_shrinking_tree_and_an_extra_step() -> None:
    root = merkle.range_hash(0, 8, NODES)
    with pytest.raises(rfc9162.ProofError):
        rfc9162.verify_consistency(9, 8, root, root, [])
    proof = merkle.hashes(merkle.consistency_ranges(3, 8), NODES)
    with pytest.raises(rfc9162.ProofError):
        rfc9162.verify_consistency(3, 8, merkle.range_hash(0, 3, NODES), root, [*proof, root])
