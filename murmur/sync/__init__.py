"""Convergence beyond the log: range-based set reconciliation between peers, and offline bundles.

    ranges     items, bounds, fingerprints and the sorted item set they are computed over (pure)
    wire       the binary encoding of reconciliation messages (pure)
    reconcile  the initiator's session and the stateless responder (pure: bytes in, bytes out)
    index      the store's repair set, kept in memory and refreshed as the log grows (store I/O)
    bundle     the offline bundle format: write, and read what survives of a damaged file (pure)

docs/repair-and-bundles.md describes the protocol and the bundle format.
"""
