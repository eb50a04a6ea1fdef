"""Read synthetic source files back as string tables, whatever their format."""

from __future__ import annotations

from joinedup.synth.readback import read_source

__all__ = ["read_source"]
