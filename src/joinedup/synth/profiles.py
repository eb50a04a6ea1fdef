"""Scenario profiles: named sets of overrides that break the default region's assumptions.

The default region is tuned to be plausible for inner and south London; a linkage model can come
to rely on its habits without anyone noticing (people rarely move, nearly everyone has a date of
birth and an identifier, names are mostly written the same way). A profile is data, not code: a
name, a description, overrides of :class:`~joinedup.synth.config.SynthConfig` fields and
overrides of :class:`~joinedup.synth.config.ErrorRates` fields (including the error kinds only
profiles switch on: ``other_address``, ``address_disorder``, ``double_given``). Ground truth is
written exactly as for the default region. See docs/synthetic-data.md for what each profile is
for and the figures it produces.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .config import SynthConfig


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    config: dict[str, Any] = field(default_factory=dict)  # SynthConfig field overrides
    errors: dict[str, float] = field(default_factory=dict)  # ErrorRates field overrides


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("default", "The default region: the documented rates, unchanged."),
        Profile(
            "movers",
            "People at different addresses in different files, often in another borough "
            "(postcode, UPRN, locality and address line all differ at once), with far fewer "
            "shared identifiers: more and longer-distance moves, systems slow to update, and "
            "systems that hold a person at another address altogether.",
            config={
                "move_rate_owner": 0.15,
                "move_rate_private_rent": 0.6,
                "move_rate_social_rent": 0.15,
                "move_within_borough_share": 0.3,
            },
            errors={
                "other_address": 0.22,
                "other_address_cross_borough": 0.7,
                "stale_address": 0.6,
                "stale_address_mean_days": 400.0,
                "missing_identifier": 0.45,
                "missing_uprn": 0.3,
            },
        ),
        Profile(
            "sparse",
            "Thin records: dates of birth missing on about a fifth of records, address parts "
            "missing or in the wrong columns, postcodes, UPRNs and identifiers often blank.",
            errors={
                "missing_dob": 0.23,
                "missing_middle": 0.7,
                "missing_postcode": 0.12,
                "missing_identifier": 0.55,
                "missing_uprn": 0.5,
                "address_disorder": 0.3,
            },
        ),
        Profile(
            "names",
            "Names written many ways: nicknames and short forms (Bob/Robert, Liz/Elizabeth), "
            "transliterations (Mohammed/Muhammad/Mohamed), married women under their birth or "
            "their married name in different files, double-barrelled family names in part, "
            "double given names, and more typing errors in names.",
            config={
                "married_name_rate": 0.85,
                "hyphenated_name_rate": 0.2,
                "mixed_origin_rate": 0.3,
                "middle_name_rate": 0.7,
            },
            errors={
                "nickname": 0.35,
                "family_variant": 0.35,
                "maiden_name": 0.35,
                "hyphen_part": 0.5,
                "typo_given": 0.06,
                "typo_family": 0.04,
                "name_swap": 0.02,
                "double_given": 0.15,
                "missing_identifier": 0.3,
            },
        ),
    )
}


def profile_names() -> list[str]:
    return list(PROFILES)


def apply_profile(config: SynthConfig, name: str) -> SynthConfig:
    """``config`` with the named profile's overrides (an unknown name is a ValueError)."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}: choose one of {', '.join(PROFILES)}")
    profile = PROFILES[name]
    errors = replace(config.errors, **profile.errors)
    return replace(config, profile=name, errors=errors, **profile.config)
