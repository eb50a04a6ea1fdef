"""A sample file kept between the steps of the guided mapping page (map, preview, save).

The uploaded file moves to ``<uploads>/drafts/`` under a random name and the page carries a
signed token naming it, the person who uploaded it and the organisation and dataset it is
for. A token is good for :data:`MAX_AGE` seconds and only for its owner; saving or ingesting
deletes the file, and files older than that are removed whenever a draft is kept or opened.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from joinedup.config import Settings
from joinedup.home import ensure_secret_key
from joinedup.web.uploads import UploadedFile, UploadError, safe_suffix

MAX_AGE = 3600
_SALT = "joinedup.mapping-draft"


@dataclass(frozen=True)
class Draft:
    path: Path
    filename: str
    organisation: str
    dataset: str
    standard: str


def _folder(settings: Settings) -> Path:
    folder = settings.uploads_dir / "drafts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ensure_secret_key(settings), salt=_SALT)


def remove_stale_drafts(settings: Settings) -> None:
    cutoff = time.time() - MAX_AGE
    for entry in _folder(settings).iterdir():
        if entry.is_file() and entry.stat().st_mtime < cutoff:
            entry.unlink(missing_ok=True)


def keep_draft(
    settings: Settings, upload: UploadedFile, user: str, **data: str
) -> tuple[str, Draft]:
    """Move ``upload`` into the drafts and return its token and the draft."""
    remove_stale_drafts(settings)
    name = uuid.uuid4().hex + safe_suffix(upload.filename)
    path = _folder(settings) / name
    upload.path.rename(path)
    payload: dict[str, Any] = {"f": name, "u": user, "n": upload.filename, **data}
    token = _serializer(settings).dumps(payload)
    return token, Draft(
        path, upload.filename, data["organisation"], data["dataset"], data.get("standard", "")
    )


def open_draft(settings: Settings, token: str, user: str) -> Draft:
    """The draft a token names, for its owner only; a clear error when it has gone."""
    remove_stale_drafts(settings)
    try:
        payload = _serializer(settings).loads(token, max_age=MAX_AGE)
    except BadSignature:
        raise UploadError("The sample has expired: upload it again", 400) from None
    path = _folder(settings) / str(payload.get("f", ""))
    if payload.get("u") != user or not path.is_file() or path.parent != _folder(settings):
        raise UploadError("The sample has expired: upload it again", 400)
    return Draft(
        path,
        str(payload["n"]),
        str(payload["organisation"]),
        str(payload["dataset"]),
        str(payload.get("standard", "")),
    )
