"""The CLI prints the seed envelope and exits 0 only on success."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import pytest

from edge.analysis.base import FACE_FIELDS
from edge.pipeline import Engine

ENVELOPE_KEYS = ["error_code", "error_msg", "log_id", "timestamp", "cached", "result"]


def _run(*args: str) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "edge.cli", "analyze", *args], capture_output=True, text=True, timeout=120)
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def astronaut_file(tmp_path_factory, astronaut_bgr):
    path = tmp_path_factory.mktemp("img") / "astronaut.jpg"
    cv2.imwrite(str(path), astronaut_bgr)
    return path


def test_success_envelope(astronaut_file, tmp_path):
    overlay = tmp_path / "ov.png"
    rc, env = _run(str(astronaut_file), "--overlay", str(overlay))
    assert rc == 0
    assert list(env) == ENVELOPE_KEYS
    assert env["error_code"] == 0 and env["error_msg"] == "SUCCESS" and env["cached"] == 0
    assert isinstance(env["log_id"], int) and isinstance(env["timestamp"], int)
    face = env["result"]["face_list"][0]
    assert env["result"]["face_num"] == 1
    assert list(face) == ["face_token", "location"]  # default: face_token + location only
    assert set(face["location"]) == {"left", "top", "width", "height", "degree"}
    assert cv2.imread(str(overlay)) is not None


def test_error_envelope_and_exit_status(tmp_path, coffee_bgr):
    coffee = tmp_path / "coffee.png"
    cv2.imwrite(str(coffee), coffee_bgr)
    rc, env = _run(str(coffee))
    assert rc == 1 and env["error_code"] == 1007 and env["result"] is None
    gif = tmp_path / "x.gif"
    gif.write_bytes(b"GIF89a" + b"\x00" * 50)
    rc, env = _run(str(gif))
    assert rc == 1 and env["error_code"] == 1002
    rc, env = _run(str(tmp_path / "missing.jpg"))
    assert rc == 1 and env["error_code"] == 1001
    rc, env = _run(str(coffee), "--max-faces", "11")
    assert rc == 1 and env["error_code"] == 1006 and "max_face_num" in env["error_msg"]


def test_unavailable_field_is_an_error_not_empty_data(astronaut_file, monkeypatch, capsys):
    """A device whose build lacks an analyzer answers 1008 for that field, never empty data."""
    import edge.pipeline
    from edge.cli import main

    registered = edge.pipeline.available_fields()
    missing = FACE_FIELDS[-1]
    monkeypatch.setattr(edge.pipeline, "available_fields", lambda: {k: v for k, v in registered.items() if k != missing})
    assert missing not in Engine.available_fields()
    rc = main(["analyze", str(astronaut_file), "--fields", f"color,{missing}"])
    env = json.loads(capsys.readouterr().out)
    assert rc == 1 and env["error_code"] == 1008 and missing in env["error_msg"] and env["result"] is None


def test_check_config_validates_keys_and_every_model_hash(tmp_path, capsys):
    from edge.cli import main

    assert main(["check-config"]) == 0 and "config ok" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("api:\n  prot: 1\n")
    assert main(["--config", str(bad), "check-config"]) == 2
    assert "api.prot: unknown key" in capsys.readouterr().err
    models = tmp_path / "models"
    models.mkdir()
    (models / "m.tflite").write_bytes(b"tampered")
    (models / "manifest.yaml").write_text("models:\n  m:\n    file: m.tflite\n    sha256: " + "0" * 64 + "\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"runtime:\n  models_dir: {models}\n  manifest: {models / 'manifest.yaml'}\n")
    assert main(["--config", str(cfg), "check-config"]) == 2
    assert "does not match" in capsys.readouterr().err


def test_check_config_takes_the_file_after_the_command(tmp_path, capsys):
    """Issue 14: `skin-kiosk check-config FILE` (as `promtool check config FILE`) checks FILE; the
    `--config FILE check-config` form still works; two different files are refused."""
    from edge.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("api:\n  prot: 1\n")
    assert main(["check-config", str(bad)]) == 2
    assert "api.prot: unknown key" in capsys.readouterr().err
    good = tmp_path / "good.yaml"
    good.write_text("api:\n  port: 8099\n")
    assert main(["check-config", str(good)]) == 0 and "config ok" in capsys.readouterr().out
    assert main(["--config", str(good), "check-config", str(good)]) == 0
    with pytest.raises(SystemExit) as exc:
        main(["--config", str(bad), "check-config", str(good)])
    assert exc.value.code == 2 and "two config files" in capsys.readouterr().err
    proc = subprocess.run([sys.executable, "-m", "edge.cli", "check-config", str(bad)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "unrecognized arguments" not in proc.stderr
