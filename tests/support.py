"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from joinedup.config import Settings


def make_settings(home: Path, database_url: str = "") -> Settings:
    """Settings for a throwaway home with a fixed secret key."""
    return Settings(home=home, database_url=database_url, secret_key="test-secret-key")
