"""One module per source system; each writes its own organisations' exports.

Every module has ``export(world, out)`` which builds canonical columns for its records,
applies its error model and hands each file to :class:`~joinedup.synth.systems.base.Output`.
"""

from __future__ import annotations

from . import (
    adult_social_care,
    benefits,
    census,
    childrens_social_care,
    council_tax,
    electoral,
    foodbank,
    housing,
    spend,
)

SYSTEMS = (
    census,
    council_tax,
    benefits,
    housing,
    adult_social_care,
    childrens_social_care,
    electoral,
    foodbank,
    spend,
)

__all__ = ["SYSTEMS"]
