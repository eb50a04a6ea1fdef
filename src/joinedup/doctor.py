"""``joinedup doctor``: check a home and the install it runs on, and say what to fix.

Each check is a :class:`Check`: its name, whether it passed, what was found and (when it did
not pass) the fix. A failed ``required`` check makes the command exit non-zero; the others
(the browser, only the browser tests need) are advice.
"""

from __future__ import annotations

import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from joinedup.config import Settings

#: Below this much free space in the home's file system, snapshots and backups may not fit.
MIN_FREE_BYTES = 1 << 30
ASSETS = Path(__file__).parent / "web" / "static" / "vendor"
CHROMIUM = Path("/usr/bin/chromium")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    found: str
    fix: str = ""
    required: bool = True


def _home(settings: Settings) -> Check:
    from joinedup.home import database_label, home_problem

    problem = home_problem(settings)
    if problem:
        text, _, fix = problem.partition(": ")
        return Check("Home and database", False, text, fix)
    return Check(
        "Home and database",
        True,
        f"{settings.home.resolve()} on {database_label(settings)}, migrations up to date",
    )


def _snapshots(settings: Settings) -> Check:
    from sqlalchemy import select

    from joinedup.catalog.db import session_scope
    from joinedup.catalog.models import Snapshot
    from joinedup.store import SnapshotStore

    store = SnapshotStore(settings)
    with session_scope(settings) as session:
        rows = list(session.execute(select(Snapshot.sha256, Snapshot.size_bytes)))
    wrong = [sha for sha, size in rows if _size(store.path_of(sha)) != size]
    if wrong:
        return Check(
            "Snapshots",
            False,
            f"{len(wrong)} of {len(rows)} snapshot files are missing or the wrong size",
            "run `joinedup store verify` for the list, then restore them from a backup",
        )
    return Check("Snapshots", True, f"all {len(rows)} snapshot files present (sizes checked)")


def _size(path: Path) -> int | None:
    return path.stat().st_size if path.is_file() else None


def _disk(settings: Settings) -> Check:
    free = shutil.disk_usage(settings.home).free
    found = f"{free / (1 << 30):.1f} GiB free where the home is"
    if free < MIN_FREE_BYTES:
        return Check("Free disk", False, found, "free space or move the home (JOINEDUP_HOME)")
    return Check("Free disk", True, found)


def _secret_key(settings: Settings) -> Check:
    if settings.secret_key:
        return Check("Secret key", True, "set by JOINEDUP_SECRET_KEY")
    path = settings.secret_key_file
    if not path.is_file():
        return Check("Secret key", False, f"{path} is missing", "run `joinedup init`")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check(
            "Secret key",
            False,
            f"{path} is readable by others (mode {mode:o})",
            f"run `chmod 600 {path}`",
        )
    return Check("Secret key", True, f"{path} (mode {mode:o})")


def _assets() -> Check:
    if not (ASSETS / ".stamp").is_file():
        return Check(
            "Web assets", False, f"{ASSETS} is not built", "run `make assets` in the source tree"
        )
    return Check("Web assets", True, f"built in {ASSETS}")


def _browser() -> Check:
    if not CHROMIUM.is_file():
        return Check(
            "Browser (tests only)",
            False,
            f"{CHROMIUM} is missing",
            "run `make browser` (only the browser tests need it)",
            required=False,
        )
    return Check("Browser (tests only)", True, str(CHROMIUM), required=False)


def diagnose(settings: Settings) -> list[Check]:
    """Every check, in order; the home's contents are checked only when the home is usable."""
    home = _home(settings)
    checks = [home]
    if home.ok:
        checks += [_snapshots(settings), _disk(settings), _secret_key(settings)]
    return [*checks, _assets(), _browser()]
