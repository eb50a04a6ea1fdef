from pathlib import Path

import pytest

from joinedup.config import load_settings


def test_defaults_put_sqlite_inside_the_home() -> None:
    settings = load_settings({})
    assert settings.home == Path("joinedup-data")
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("joinedup-data/joinedup.db")


def test_environment_overrides(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "JOINEDUP_HOME": str(tmp_path),
            "JOINEDUP_DATABASE_URL": "postgresql://db/x",
            "JOINEDUP_PORT": "9000",
        }
    )
    assert settings.home == tmp_path
    assert settings.resolved_database_url == "postgresql://db/x"
    assert settings.port == 9000


def test_toml_file_then_environment(tmp_path: Path) -> None:
    config = tmp_path / "joinedup.toml"
    config.write_text('home = "/srv/hub"\nport = 8100\n')
    settings = load_settings({"JOINEDUP_CONFIG": str(config), "JOINEDUP_PORT": "8200"})
    assert settings.home == Path("/srv/hub")
    assert settings.port == 8200


def test_unknown_toml_setting_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "joinedup.toml"
    config.write_text('hom = "/typo"\n')
    with pytest.raises(ValueError, match="unknown setting 'hom'"):
        load_settings({"JOINEDUP_CONFIG": str(config)})
