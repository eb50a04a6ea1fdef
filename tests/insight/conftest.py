"""The insight tests use the session-wide ``demo_home`` fixture of ``tests/conftest.py``."""
