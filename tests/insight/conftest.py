"""The insight tests use the session's ``demo_home`` (tests/conftest.py)."""
