"""Settings: environment variables first, then an optional ``joinedup.toml``, then defaults.

* ``JOINEDUP_HOME`` — the data directory (default ``./joinedup-data``).
* ``JOINEDUP_DATABASE_URL`` — the control-plane database (default SQLite inside the home).
* ``JOINEDUP_METRICS_TOKEN`` — when set, the web app serves ``/metrics`` to requests bearing it.
* ``JOINEDUP_METRICS_BIND`` — when set (``host:port``), ``serve`` and ``worker`` also serve
  the metrics on that address (docs/operations.md, "Monitoring").
* ``JOINEDUP_LOG_FORMAT`` — ``json`` (default: one JSON object a line) or ``text``.
* ``JOINEDUP_TRUSTED_PROXIES`` — proxies whose ``X-Forwarded-For`` is believed (none by
  default: the peer's address is the client's).
* ``JOINEDUP_ENGINE`` — the data-plane engine for the heavy stages: ``duckdb`` (default,
  embedded) or ``spark`` (the optional ``joinedup[spark]`` extra and Java 17; ADR 0038).
* ``JOINEDUP_SPARK_MASTER`` — the Spark master when the engine is ``spark``: ``local[*]``
  (default), ``local[N]``, or a ``spark://`` / ``k8s://`` cluster URL. Further Spark settings
  come from a ``[joinedup.spark]`` table in ``joinedup.toml`` (``spark_conf``).
* ``JOINEDUP_CONFIG`` — path of a TOML file (default ``joinedup.toml`` in the working directory,
  then inside the home). Keys are the lower-case setting names, e.g. ``database_url = "..."``.
* The hub's own brand (:mod:`joinedup.web.brand` checks it): ``JOINEDUP_SERVICE_NAME`` (the
  header's text, default ``joinedup``), ``JOINEDUP_ORGANISATION_NAME``,
  ``JOINEDUP_ORGANISATION_LOGO`` (an SVG or PNG file) and ``JOINEDUP_BRAND_COLOUR`` (``#rrggbb``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "JOINEDUP_"
LOG_FORMATS = ("json", "text")
ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class Settings:
    """Resolved configuration for one process."""

    home: Path = field(default_factory=lambda: Path("joinedup-data"))
    database_url: str = ""
    secret_key: str = ""
    max_upload_bytes: int = 512 * 1024 * 1024
    host: str = "127.0.0.1"
    port: int = 8000
    service_name: str = "joinedup"
    organisation_name: str = ""
    organisation_logo: str = ""
    brand_colour: str = ""
    metrics_token: str = ""
    metrics_bind: str = ""
    log_format: str = "json"
    #: Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated IP
    #: addresses or networks); empty: none, the peer is the client.
    trusted_proxies: str = ""
    #: The data-plane engine of the heavy stages (ADR 0038).
    engine: str = "duckdb"
    spark_master: str = "local[*]"
    #: Extra Spark settings (``spark.*`` keys), from ``[joinedup.spark]`` in joinedup.toml.
    #: Pairs rather than a dict, so that settings stay hashable.
    spark_conf: tuple[tuple[str, str], ...] = ()

    @property
    def snapshots_dir(self) -> Path:
        """Where immutable Parquet snapshots live (content-addressed)."""
        return self.home / "snapshots"

    @property
    def tmp_dir(self) -> Path:
        """Scratch space on the same filesystem as the snapshots (for atomic renames)."""
        return self.home / "tmp"

    @property
    def uploads_dir(self) -> Path:
        """Where uploaded files are streamed before ingest."""
        return self.home / "uploads"

    @property
    def secret_key_file(self) -> Path:
        return self.home / "secret.key"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'joinedup.db').resolve()}"

    def with_home(self, home: Path) -> Settings:
        """A copy pointing at another home; the database follows unless set explicitly."""
        return replace(self, home=home)


def _coerce(name: str, raw: Any) -> Any:
    if name == "home":
        return Path(str(raw)).expanduser()
    if name in {"max_upload_bytes", "port"}:
        return int(raw)
    if name == "engine" and str(raw) not in ENGINES:
        raise ValueError(f"engine {raw!r}: choose one of {', '.join(ENGINES)}")
    if name == "spark_conf":
        if not isinstance(raw, dict):
            raise ValueError("spark: a table of Spark settings, e.g. [joinedup.spark]")
        return tuple(sorted((str(key), str(value)) for key, value in raw.items()))
    if name == "log_format" and str(raw) not in LOG_FORMATS:
        raise ValueError(f"log_format {raw!r}: choose one of {', '.join(LOG_FORMATS)}")
    return str(raw)


def _toml_values(path: Path | None) -> dict[str, Any]:
    candidates = [path] if path else [Path("joinedup.toml")]
    for candidate in candidates:
        if candidate and candidate.is_file():
            with candidate.open("rb") as fh:
                data = tomllib.load(fh)
            return dict(data.get("joinedup", data))
    return {}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from the environment (``env`` defaults to ``os.environ``) and TOML."""
    env = dict(os.environ if env is None else env)
    config_path = Path(env[f"{ENV_PREFIX}CONFIG"]) if f"{ENV_PREFIX}CONFIG" in env else None
    values: dict[str, Any] = {}
    names = {f.name for f in fields(Settings)}
    for key, raw in _toml_values(config_path).items():
        key = "spark_conf" if key == "spark" else key
        if key not in names:
            raise ValueError(f"joinedup.toml: unknown setting {key!r}")
        values[key] = _coerce(key, raw)
    for name in names - {"spark_conf"}:
        env_key = f"{ENV_PREFIX}{name.upper()}"
        if env.get(env_key):
            values[name] = _coerce(name, env[env_key])
    return Settings(**values)
