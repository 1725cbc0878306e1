"""The RFC 9162 (Certificate Transparency v2) Merkle audit log: hasher, trees, proofs,
verification and signed checkpoints.

Pure: no I/O, no clock. The service layer stores the entries and the frontier and calls this
package to hash, prove, verify and sign (R12, docs/rules.md).
"""

from accord.audit.checkpoint import (
    Checkpoint,
    NoteSignature,
    SignedCheckpoint,
    SignedNote,
    VerifierKey,
    key_hash,
    parse_checkpoint_body,
    parse_note,
    parse_signed_checkpoint,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key,
)
from accord.audit.hasher import EMPTY_ROOT, HASH_SIZE, LEAF_HASH, NODE_HASH, leaf_hash, node_hash
from accord.audit.proofs import consistency_path, inclusion_path
from accord.audit.tree import (
    ClosedNode,
    Frontier,
    MerkleTree,
    Node,
    cover,
    fold,
    from_nodes,
    inclusion_nodes,
    node_key,
    root_of,
)
from accord.audit.verify import root_from_inclusion, verify_consistency, verify_inclusion

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_HASH",
    "NODE_HASH",
    "Checkpoint",
    "ClosedNode",
    "Frontier",
    "MerkleTree",
    "Node",
    "NoteSignature",
    "SignedCheckpoint",
    "SignedNote",
    "VerifierKey",
    "consistency_path",
    "cover",
    "fold",
    "from_nodes",
    "inclusion_nodes",
    "inclusion_path",
    "key_hash",
    "leaf_hash",
    "node_hash",
    "node_key",
    "parse_checkpoint_body",
    "parse_note",
    "parse_signed_checkpoint",
    "parse_verifier_key",
    "root_from_inclusion",
    "root_of",
    "sign_checkpoint",
    "sign_note",
    "verifier_key",
    "verify_consistency",
    "verify_inclusion",
]
