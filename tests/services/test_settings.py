"""The one settings object: defaults, the settings file, environment overrides, and bad values."""

from pathlib import Path

import pytest

from settings import PROJECT_ROOT, SettingsError, load_settings, read_settings_file


def test_defaults_put_everything_under_the_project() -> None:
    settings = load_settings({"SHOP_SETTINGS_FILE": "", "PATH": "/usr/bin"})
    assert settings.data_dir == PROJECT_ROOT / "var"
    assert settings.tracker_db_path == PROJECT_ROOT / "var" / "tracker.db"
    assert settings.rasa_model_file == PROJECT_ROOT / "models" / "rasa" / "assistant.tar.gz"
    assert (settings.rasa_port, settings.action_port, settings.web_port) == (5005, 5055, 8080)
    assert settings.action_server_url == "http://127.0.0.1:5055/webhook"
    assert settings.rasa_auth_token is None


def test_environment_overrides_the_settings_file(tmp_path: Path) -> None:
    settings_file = tmp_path / "shop.env"
    settings_file.write_text(
        "# local overrides\nRASA_PORT=6005\nexport ACTION_PORT=6055\nSHOP_DATA_DIR='/srv/shop data'\n\n"
    )
    settings = load_settings({"SHOP_SETTINGS_FILE": str(settings_file), "RASA_PORT": "7005"})
    assert settings.rasa_port == 7005  # environment wins
    assert settings.action_port == 6055  # file over default
    assert settings.data_dir == Path("/srv/shop data")


def test_relative_paths_are_relative_to_the_project() -> None:
    settings = load_settings({"SHOP_MODELS_DIR": "build/models"})
    assert settings.models_dir == PROJECT_ROOT / "build" / "models"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RASA_PORT", "http", "RASA_PORT must be a port number"),
        ("WEB_PORT", "70000", "WEB_PORT must be a port number"),
        ("ACTION_PORT", "0", "ACTION_PORT must be a port number"),
        ("SHOP_LOG_LEVEL", "LOUD", "SHOP_LOG_LEVEL must be"),
        ("SHOP_URL", "shop.example.com", "SHOP_URL must be an http"),
        ("SHOP_ACTION_TIMEOUT", "soon", "SHOP_ACTION_TIMEOUT must be a number of seconds"),
        ("SHOP_ACTION_TIMEOUT", "0", "SHOP_ACTION_TIMEOUT must be between 0 and 600"),
    ],
)
def test_bad_values_are_named(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({variable: value})


def test_malformed_settings_file_line_is_reported_with_its_line_number(tmp_path: Path) -> None:
    settings_file = tmp_path / "shop.env"
    settings_file.write_text("RASA_PORT=6005\nthis is not a setting\n")
    with pytest.raises(SettingsError, match=r"shop.env:2: expected KEY=VALUE"):
        read_settings_file(settings_file)


def test_a_named_settings_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings({"SHOP_SETTINGS_FILE": str(tmp_path / "missing.env")})


def test_shop_address_and_action_timeout() -> None:
    settings = load_settings({"SHOP_URL": "https://outdoors.example.org/", "SHOP_ACTION_TIMEOUT": "2.5"})
    assert settings.shop_url == "https://outdoors.example.org"
    assert settings.action_timeout == 2.5
    assert load_settings({}).action_timeout == 10.0
