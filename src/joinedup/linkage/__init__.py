"""Record linkage: the resident index (see docs/linkage.md)."""
