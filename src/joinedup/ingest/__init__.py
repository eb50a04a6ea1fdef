"""Ingest: read a council export, map it to an open standard, validate, normalise, snapshot."""
