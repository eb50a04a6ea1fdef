"""The hub's own brand, from settings: its service name, and optionally its organisation's
name, logo and colour.

A hub is not on GOV.UK, so its pages wear GOV.UK Frontend's generic header, not the GOV.UK
header and crown (docs/adr/0029-the-hubs-own-brand.md). :func:`brand_for` checks the settings
once, when the app is built, so a bad logo or colour stops the server at start with the
setting's name rather than drawing a broken or unreadable header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from joinedup.config import Settings
from joinedup.errors import InvalidInput

#: The generic header's own colour ($govuk-colour("black") in govuk-frontend 6).
DEFAULT_COLOUR = "#0b0c0c"
#: The header's text is white; WCAG 1.4.3 asks 4.5:1 for text of normal size.
MINIMUM_CONTRAST = 4.5
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
MAX_LOGO_BYTES = 512 * 1024
MAX_NAME_LENGTH = 80
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


class BrandSettingError(InvalidInput):
    """A brand setting that cannot be used; the text leads with the setting's name."""

    names_field = True


def _luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_with_white(colour: str) -> float:
    """The WCAG contrast ratio of white text on ``colour`` (1 to 21)."""
    return 1.05 / (_luminance(colour) + 0.05)


@dataclass(frozen=True)
class Brand:
    service_name: str
    organisation_name: str = ""
    logo: Path | None = None
    colour: str | None = None

    @property
    def logo_type(self) -> str | None:
        """The logo's media type, or ``None`` without a logo."""
        return LOGO_TYPES[self.logo.suffix.lower()] if self.logo else None

    @property
    def theme_colour(self) -> str:
        return self.colour or DEFAULT_COLOUR


def _name(setting: str, value: str, *, required: bool) -> str:
    name = " ".join(value.split())
    if required and not name:
        raise BrandSettingError("give the service a name", field=setting)
    if len(name) > MAX_NAME_LENGTH:
        raise BrandSettingError(f"keep it to {MAX_NAME_LENGTH} characters", field=setting)
    return name


def _logo(value: str) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    if path.suffix.lower() not in LOGO_TYPES:
        raise BrandSettingError(
            f"{path} is not an SVG or PNG file (the name must end .svg or .png)",
            field="organisation_logo",
        )
    if not path.is_file():
        raise BrandSettingError(f"there is no file at {path}", field="organisation_logo")
    if path.stat().st_size > MAX_LOGO_BYTES:
        raise BrandSettingError(
            f"{path} is larger than {MAX_LOGO_BYTES // 1024} KiB; use a smaller logo",
            field="organisation_logo",
        )
    return path.resolve()


def _colour(value: str) -> str | None:
    colour = value.strip()
    if not colour:
        return None
    if not _HEX_COLOUR.fullmatch(colour):
        raise BrandSettingError(
            f"{colour!r} is not a colour written as #rrggbb (for example #1d4e89)",
            field="brand_colour",
        )
    ratio = contrast_with_white(colour)
    if ratio < MINIMUM_CONTRAST:
        raise BrandSettingError(
            f"white text on {colour} has a contrast of {ratio:.1f}:1; the header needs at least "
            f"{MINIMUM_CONTRAST}:1, so choose a darker colour",
            field="brand_colour",
        )
    return colour.lower()


def brand_for(settings: Settings) -> Brand:
    """The brand these settings describe; :class:`InvalidInput` names the setting at fault."""
    return Brand(
        service_name=_name("service_name", settings.service_name, required=True),
        organisation_name=_name("organisation_name", settings.organisation_name, required=False),
        logo=_logo(settings.organisation_logo),
        colour=_colour(settings.brand_colour),
    )
