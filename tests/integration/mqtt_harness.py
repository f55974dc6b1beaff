"""Test harness for the MQTT sync tests: a real mosquitto on a free loopback port, a real paho
subscriber, TLS material made with the openssl CLI, a kiosk config with short backoffs, a face dict
with every contract field, and a small JSON-schema checker. Fixtures live in conftest.py."""

from __future__ import annotations

import base64
import getpass
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import yaml
from paho.mqtt.enums import CallbackAPIVersion

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
LOOPBACK = "127.0.0.1"
TOPIC_PREFIX = "test-kiosk"
REPO_ROOT = Path(__file__).resolve().parents[2]
PAYLOAD_SCHEMA_PATH = REPO_ROOT / "docs" / "payload.schema.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# --- TLS material -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_cert: Path  # a CA that signed nothing here: trusting it must fail


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_ca(folder: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=folder)


def make_tls_files(folder: Path) -> TlsFiles:
    """A CA made for this test run, a server cert for 127.0.0.1 and a client cert, plus a stranger CA."""
    _make_ca(folder, "test-ca")
    _make_ca(folder, "other-ca")
    _make_leaf(folder, "server", "test-ca",
               "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    _make_leaf(folder, "client", "test-ca", "extendedKeyUsage=clientAuth\n")
    return TlsFiles(folder / "test-ca.crt", folder / "server.crt", folder / "server.key",
                    folder / "client.crt", folder / "client.key", folder / "other-ca.crt")


def _make_leaf(folder: Path, name: str, ca: str, extensions: str) -> None:
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=folder)
    (folder / f"{name}.ext").write_text(extensions)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
             "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext", cwd=folder)


# --- the broker ---------------------------------------------------------------------------------


class MosquittoBroker:
    """One mosquitto process with a temporary config; start/stop/restart on the same port."""

    def __init__(self, folder: Path, *, users: dict[str, str] | None = None, tls: TlsFiles | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        self.tls = tls
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} {LOOPBACK}",
            # Persistence keeps the test subscriber's session and its queued messages across restarts.
            "persistence true",
            f"persistence_location {folder}/",
            "max_queued_messages 100000",
            f"log_dest file {folder}/mosquitto.log",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            # Running as root, mosquitto would switch to user 'mosquitto', who cannot read our temp files.
            f"user {getpass.getuser()}",
        ]
        if users:
            passwd = folder / "passwd"
            for i, (name, password) in enumerate(users.items()):
                flags = ["-b", "-c"] if i == 0 else ["-b"]
                subprocess.run([MOSQUITTO_PASSWD, *flags, str(passwd), name, password], check=True,
                               capture_output=True)
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        else:
            lines.append("allow_anonymous true")
        if tls:
            lines += [f"cafile {tls.ca_cert}", f"certfile {tls.server_cert}", f"keyfile {tls.server_key}",
                      "require_certificate true", "tls_version tlsv1.2"]
        self.config = folder / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    def start(self, timeout: float = 5.0) -> None:
        assert self.process is None, "already running"
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        if not wait_until(self._accepting, timeout):
            err = self.process.stderr.read().decode() if self.process.poll() is not None and self.process.stderr else ""
            self.kill()
            raise RuntimeError(f"mosquitto did not start on port {self.port}: {err}\n{self.log()}")

    def _accepting(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            return False
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM: mosquitto saves its persistence file and exits."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def kill(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        path = self.folder / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""


# --- the subscriber -----------------------------------------------------------------------------


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool


@dataclass
class Collector:
    """A real paho subscriber with a persistent session (QoS 1), so nothing queued for it is lost
    while it or the broker restarts. Reconnects by itself."""

    port: int
    topic: str = f"{TOPIC_PREFIX}/#"
    username: str | None = None
    password: str | None = None
    tls: TlsFiles | None = None
    messages: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-sub-{uuid.uuid4().hex[:8]}",
                                  clean_session=False, protocol=paho.MQTTv311)
        self.client.reconnect_delay_set(min_delay=0.05, max_delay=0.2)
        if self.username:
            self.client.username_pw_set(self.username, self.password)
        if self.tls:
            self.client.tls_set(ca_certs=str(self.tls.ca_cert), certfile=str(self.tls.client_cert),
                                keyfile=str(self.tls.client_key))
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            client.subscribe(self.topic, qos=1)

    def _on_message(self, _c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(Received(message.topic, bytes(message.payload), bool(message.retain)))

    def start(self, timeout: float = 5.0) -> Collector:
        self.client.connect_async(LOOPBACK, self.port, keepalive=10)
        self.client.loop_start()
        assert self.subscribed.wait(timeout), "test subscriber could not subscribe"
        return self

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def on(self, leaf: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic.endswith("/" + leaf)]

    def payloads(self, leaf: str) -> list[dict[str, Any]]:
        return [json.loads(m.payload) for m in self.on(leaf)]

    def distinct_ids(self, leaf: str = "visit") -> set[str]:
        return {p["msg_id"] for p in self.payloads(leaf)}

    def wait_for_ids(self, expected: set[str], timeout: float, leaf: str = "visit") -> bool:
        return wait_until(lambda: expected <= self.distinct_ids(leaf), timeout)


# --- kiosk side ---------------------------------------------------------------------------------


def write_kiosk_config(folder: Path, port: int, *, device_id: str = "kiosk-test", **mqtt: Any) -> Path:
    """A config.yaml for diary + publisher with short backoffs, so tests stay fast."""
    mqtt_section: dict[str, Any] = {
        "enabled": True, "host": LOOPBACK, "port": port, "topic_prefix": TOPIC_PREFIX,
        "reconnect_min_s": 0.05, "reconnect_max_s": 0.4, "poll_interval_s": 0.05, "keepalive_s": 5,
    }
    mqtt_section.update({k: str(v) if isinstance(v, Path) else v for k, v in mqtt.items()})
    config = {
        "diary": {"path": str(folder / "diary.sqlite3"), "device_id": device_id,
                  "device_secret_file": str(folder / "device-secret")},
        "mqtt": mqtt_section,
    }
    path = folder / "config.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "device-secret").write_text(os.urandom(32).hex() + "\n")
    path.write_text(yaml.safe_dump(config))
    return path


def sample_face(seed: int = 0) -> dict[str, Any]:
    """A face dict with every contract field, including what must never leave the device."""
    image = base64.b64encode(os.urandom(3000)).decode()
    box = {"left": 10.5 + seed, "top": 20.25, "right": 30.0, "bottom": 40.0}
    return {
        "face_token": uuid.uuid4().hex,
        "location": {"left": 100.0, "top": 120.0, "width": 300.0, "height": 320.0, "degree": 3},
        "landmark150": [{"x": 1.0, "y": 2.0}] * 5,
        "skin": {"color": 1 + seed % 6, "smooth": 1 + seed % 4},
        "acnespotmole": {
            "acne_num": 2, "acne_list": [{"type": 1, "score": 0.9, **box}, {"type": 3, "score": 0.5, **box}],
            "speckle_num": 1, "speckle_list": [{"type": 0, "score": 0.7, **box}],
            "mole_num": 1, "mole_list": [{"score": 0.8, **box}],
        },
        "wrinkle": {"wrinkle_num": 2, "wrinkle_types": [1, 4],
                    "wrinkle_data": [[{"x": 1.5, "y": 2.5}, {"x": 3.5, "y": 4.5}]] * 2},
        "eyesattr": {
            "dark_circle_left_type": [1], "dark_circle_right_type": [], "eye_bags_left_type": [2],
            "eye_bags_right_type": [3], "dark_circle_left": [{"x": 5.0, "y": 6.0}], "dark_circle_right": [],
            "eye_bags_left": [{"x": 7.0, "y": 8.0}], "eye_bags_right": [{"x": 9.0, "y": 10.0}],
        },
        "blackheadpore": {
            "poly": [{"class_id": 1, "score": 0.6, "left": 1, "right": 2, "top": 3, "bottom": 4,
                      "point": [{"x": 1, "y": 2}]},
                     {"class_id": 0, "score": 0.4, "left": 1, "right": 2, "top": 3, "bottom": 4, "point": []}],
            "circles": [{"blackhead": [{"x": 1, "y": 2, "r": 3}], "pore": [{"x": 4, "y": 5, "r": 6}]}],
            "pore_num": 1, "pore_segs_type": [2], "blackhead_num": 1, "blackhead_segs_type": [1],
        },
        "skinface": {"skin_health_check_images": {"src_pic": image, "gray_pic": image, "brown_pic": image,
                                                  "red_pic": image}},
        "skinquality": {"skin_dryoil_check": ["0", "1", "2", "1", "0"], "skin_sensitive_check": ["1"]},
        "extended": {"scores": {"acne": 71.5, "wrinkle": 88}, "ita_deg": 41.3,
                     "quality": {"box": [1, 2, 3, 4]}},
    }


# --- JSON schema (the small subset docs/payload.schema.json uses) -------------------------------


class SchemaError(AssertionError):
    pass


def validate_schema(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None, path: str = "$") -> None:
    """Validate `value` against a JSON Schema using only: $ref (local), oneOf, type, const, enum,
    pattern, minLength/maxLength, minimum/maximum, minItems/maxItems, items, properties, required,
    additionalProperties, patternProperties. Anything else in the schema is an error, so the schema
    cannot quietly rely on a keyword this checker ignores."""
    root = root or schema
    known = {"$schema", "$id", "$defs", "$ref", "title", "description", "examples", "oneOf", "type", "const",
             "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "items",
             "properties", "required", "additionalProperties", "patternProperties"}
    unknown = set(schema) - known
    if unknown:
        raise SchemaError(f"{path}: schema uses unsupported keywords {sorted(unknown)}")
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        validate_schema(value, target, root, path)
    if "oneOf" in schema:
        passed = 0
        for option in schema["oneOf"]:
            try:
                validate_schema(value, option, root, path)
                passed += 1
            except SchemaError:
                pass
        if passed != 1:
            raise SchemaError(f"{path}: matches {passed} of oneOf, not exactly 1")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        checks = {
            "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
            "string": lambda v: isinstance(v, str), "null": lambda v: v is None,
            "boolean": lambda v: isinstance(v, bool),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        }
        if not any(checks[t](value) for t in types):
            raise SchemaError(f"{path}: {value!r} is not of type {types}")
    if "const" in schema and value != schema["const"]:
        raise SchemaError(f"{path}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise SchemaError(f"{path}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1 << 62):
            raise SchemaError(f"{path}: length {len(value)} out of bounds")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaError(f"{path}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise SchemaError(f"{path}: {value} > {schema['maximum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 1 << 62):
            raise SchemaError(f"{path}: {len(value)} items out of bounds")
        if "items" in schema:
            for i, item in enumerate(value):
                validate_schema(item, schema["items"], root, f"{path}[{i}]")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                raise SchemaError(f"{path}: missing required {name!r}")
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        for key, item in value.items():
            matched = False
            if key in properties:
                validate_schema(item, properties[key], root, f"{path}.{key}")
                matched = True
            for pattern, sub in patterns.items():
                if re.search(pattern, key):
                    validate_schema(item, sub, root, f"{path}.{key}")
                    matched = True
            extra = schema.get("additionalProperties", True)
            if not matched:
                if extra is False:
                    raise SchemaError(f"{path}: unexpected key {key!r}")
                if isinstance(extra, dict):
                    validate_schema(item, extra, root, f"{path}.{key}")


# --- publishers ---------------------------------------------------------------------------------
