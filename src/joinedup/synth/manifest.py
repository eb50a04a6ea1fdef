"""``manifest.json``: what a synthetic region contains (format ``joinedup-synth-manifest/1``).

Later stages rely on these keys: ``format``, ``synthetic``, ``seed``, ``residents``,
``months``, ``start_month``, ``error_rate``, ``organisations`` (code, name, type, gss_code),
``files`` (path, organisation, dataset, system, standard, mapping, period, format, encoding,
delimiter, rows) and ``truth`` (name -> relative path).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_FORMAT = "joinedup-synth-manifest/1"
STANDARDS = frozenset(
    {
        "person",
        "school_census",
        "council_tax",
        "benefit_claim",
        "tenancy",
        "adult_social_care",
        "childrens_social_care",
        "electoral_register",
        "referral",
        "address",
        "spend",
    }
)


@dataclass
class Organisation:
    code: str
    name: str
    type: str  # council | voluntary | hub
    gss_code: str | None = None


@dataclass
class FileEntry:
    path: str  # relative to the manifest
    organisation: str
    dataset: str
    system: str
    standard: str
    mapping: str | None
    period: str | None
    format: str
    encoding: str
    delimiter: str | None
    rows: int
    synthetic: bool = True


@dataclass
class Manifest:
    seed: int
    residents: int
    months: int
    start_month: str
    error_rate: float
    organisations: list[Organisation] = field(default_factory=list)
    files: list[FileEntry] = field(default_factory=list)
    truth: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "synthetic": True,
            "seed": self.seed,
            "residents": self.residents,
            "months": self.months,
            "start_month": self.start_month,
            "error_rate": self.error_rate,
            "organisations": [asdict(o) for o in self.organisations],
            "files": [asdict(f) for f in self.files],
            "truth": dict(self.truth),
            **self.extra,
        }

    def write(self, out_dir: Path) -> Path:
        path = out_dir / "manifest.json"
        path.write_text(
            json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return path

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files)

    def files_for(
        self, dataset: str | None = None, organisation: str | None = None
    ) -> list[FileEntry]:
        return [
            f
            for f in self.files
            if (dataset is None or f.dataset == dataset)
            and (organisation is None or f.organisation == organisation)
        ]

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read a manifest (a directory or the manifest.json file itself)."""
        if path.is_dir():
            path = path / "manifest.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"{path}: not a {MANIFEST_FORMAT} manifest")
        known = {
            "format",
            "synthetic",
            "seed",
            "residents",
            "months",
            "start_month",
            "error_rate",
            "organisations",
            "files",
            "truth",
        }
        return cls(
            seed=data["seed"],
            residents=data["residents"],
            months=data["months"],
            start_month=data["start_month"],
            error_rate=data["error_rate"],
            organisations=[Organisation(**o) for o in data["organisations"]],
            files=[FileEntry(**f) for f in data["files"]],
            truth=dict(data["truth"]),
            extra={k: v for k, v in data.items() if k not in known},
        )
