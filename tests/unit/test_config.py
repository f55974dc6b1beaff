"""Config: defaults load, env overrides, wrong keys/values fail with their key path."""

from __future__ import annotations

import pytest

from edge.config import ConfigError, load_settings, read_secret


def test_repo_config_loads():
    s = load_settings()
    assert s.api.host == "127.0.0.1" and s.request.max_bytes == 8 * 1024 * 1024


def test_env_overrides_yaml(monkeypatch, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("api:\n  port: 9000\n")
    assert load_settings(cfg).api.port == 9000
    monkeypatch.setenv("SKIN_KIOSK_API__PORT", "9100")
    monkeypatch.setenv("SKIN_KIOSK_RUNTIME__NUM_THREADS", "3")
    s = load_settings(cfg)
    assert s.api.port == 9100 and s.runtime.num_threads == 3


def test_config_path_from_env(monkeypatch, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("face:\n  detector: full\n")
    monkeypatch.setenv("SKIN_KIOSK_CONFIG", str(cfg))
    assert load_settings().face.detector == "full"


@pytest.mark.parametrize(
    "text,needle",
    [
        ("api:\n  prot: 1\n", "api.prot: unknown key"),
        ("apii:\n  port: 1\n", "apii: unknown key"),
        ("api:\n  port: 70000\n", "api.port"),
        ("face:\n  detector: medium\n", "face.detector"),
        ("runtime:\n  num_threads: many\n", "runtime.num_threads"),
        ("- a\n- b\n", "mapping"),
        ("api: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_config_names_the_key(tmp_path, text, needle):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert needle in str(info.value)


def test_missing_explicit_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.yaml")


def test_every_field_is_described():
    from edge.config import Settings

    for section_name, section in Settings.model_fields.items():
        for name, field in section.annotation.model_fields.items():  # type: ignore[union-attr]
            assert field.description, f"{section_name}.{name} has no description"


def test_secret_from_credentials_directory(monkeypatch, tmp_path):
    (tmp_path / "api_keys").write_text("k1\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert read_secret("api_keys") == "k1"
    with pytest.raises(ConfigError):
        read_secret("missing")
