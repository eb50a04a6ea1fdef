"""The hub's own brand: the generic header with the deployment's name, logo and colour, a
footer with the hub's licence and no Crown copyright, and no GOV.UK font."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from joinedup.config import Settings, load_settings
from joinedup.web.app import STATIC_DIR, create_app
from joinedup.web.brand import BrandSettingError, brand_for, contrast_with_white


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    '<rect width="10" height="10"/></svg>'
)


def test_the_default_brand_is_joinedup_in_the_generic_header(anonymous: Any) -> None:
    html = anonymous.get("/").text
    header = re.search(r'<div class="govuk-generic-header">.*?</a>', html, re.S)
    assert header and text_of(header.group(0)) == "joinedup"
    assert "/brand/colours.css" not in html and "/brand/logo" not in html
    assert '<meta name="theme-color" content="#0b0c0c">' in html
    assert "govuk-icon" not in html and "favicon.ico" not in html  # GOV.UK's crown icons
    footer = re.search(r'data-testid="footer-licence">(.*?)</p>', html, re.S)
    assert footer
    text = text_of(footer.group(1))
    assert re.fullmatch(
        r"joinedup version \S+ is open-source software under the MIT licence\.", text
    )


def test_a_deployment_sets_its_name_logo_and_colour(
    client_for: Any, home_settings: Settings, tmp_path: Path
) -> None:
    logo = tmp_path / "crest.svg"
    logo.write_text(LOGO)
    settings = replace(
        home_settings,
        service_name="South London Data Hub",
        organisation_name="South London Partnership",
        organisation_logo=str(logo),
        brand_colour="#1D4E89",
    )
    client = client_for(settings)
    html = client.get("/").text
    assert '<img class="app-brand-logo" src="/brand/logo" alt="South London Partnership"' in html
    assert '<span class="app-brand-name">South London Data Hub</span>' in html
    assert "<title>Home – South London Data Hub</title>" in html
    assert '<meta name="theme-color" content="#1d4e89">' in html
    footer = text_of(html[html.index('data-testid="footer-licence"') :])
    assert "South London Data Hub is run by South London Partnership." in footer
    assert "South London Data Hub runs joinedup version" in footer

    served = client.get("/brand/logo")
    assert served.status_code == 200 and served.headers["content-type"] == "image/svg+xml"
    assert served.text == LOGO
    css = client.get("/brand/colours.css")
    assert css.headers["content-type"].startswith("text/css")
    assert ".govuk-generic-header{background-color:#1d4e89}" in css.text.splitlines()


def test_without_a_logo_or_colour_their_addresses_are_not_found(anonymous: Any) -> None:
    assert anonymous.get("/brand/logo").status_code == 404
    assert anonymous.get("/brand/colours.css").status_code == 404


def test_the_brand_settings_come_from_joinedup_toml_and_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "joinedup.toml"
    config.write_text('[joinedup]\nservice_name = "Kent Data Hub"\nbrand_colour = "#003d6b"\n')
    env = {"JOINEDUP_CONFIG": str(config), "JOINEDUP_ORGANISATION_NAME": "Kent County Council"}
    brand = brand_for(load_settings(env))
    assert (brand.service_name, brand.organisation_name, brand.colour) == (
        "Kent Data Hub",
        "Kent County Council",
        "#003d6b",
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"service_name": "  "}, r"^service_name: give the service a name$"),
        ({"service_name": "x" * 81}, r"^service_name: keep it to 80 characters$"),
        ({"brand_colour": "navy"}, r"^brand_colour: 'navy' is not a colour written as #rrggbb"),
        (
            {"brand_colour": "#ffdd00"},
            r"^brand_colour: white text on #ffdd00 has a contrast of 1\.\d:1",
        ),
        ({"organisation_logo": "/no/such/logo.png"}, r"^organisation_logo: there is no file at"),
        ({"organisation_logo": "logo.gif"}, r"^organisation_logo: logo.gif is not an SVG or PNG"),
    ],
)
def test_a_bad_brand_setting_stops_the_app_naming_the_setting(
    home_settings: Settings, changes: dict[str, str], expected: str
) -> None:
    with pytest.raises(BrandSettingError, match=expected):
        create_app(replace(home_settings, **changes))


def test_contrast_follows_wcag() -> None:
    assert contrast_with_white("#000000") == pytest.approx(21.0)
    assert contrast_with_white("#ffffff") == pytest.approx(1.0)
    assert contrast_with_white("#1d70b8") == pytest.approx(5.17, abs=0.01)


def test_the_stylesheets_do_not_use_the_gov_uk_font() -> None:
    """A hub is not on GOV.UK: Helvetica or Arial, as the Design System advises, and the GDS
    Transport font files are not shipped."""
    for css in ("govuk/govuk-frontend.min.css", "moj/moj-frontend.min.css"):
        text = (STATIC_DIR / "vendor" / css).read_text()
        assert "GDS Transport" not in text and "@font-face" not in text, css
        assert "font-family:helvetica,arial,sans-serif" in text, css
    assert not (STATIC_DIR / "vendor" / "govuk" / "assets" / "fonts").exists()
