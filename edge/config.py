"""Configuration: `config.yaml` loaded into pydantic models.

Every model forbids unknown keys, so a typo fails loudly with its key path. Values come from, in
rising priority: the model defaults, `config.yaml` (or the file named by `SKIN_KIOSK_CONFIG`), and
environment variables `SKIN_KIOSK_<SECTION>__<FIELD>` (double underscore between levels), e.g.
`SKIN_KIOSK_API__PORT=9090` or `SKIN_KIOSK_RUNTIME__NUM_THREADS=4`.
Secrets may also come from systemd credentials (`$CREDENTIALS_DIRECTORY`): see `api.api_keys_file`
and `mqtt.password_file`.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = REPO_ROOT / "config.yaml"
ENV_PREFIX = "SKIN_KIOSK_"


class ConfigError(Exception):
    """A configuration file or value is wrong; the message names the key path."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RuntimeConfig(Section):
    num_threads: int = Field(2, ge=1, le=16, description="Threads per TFLite interpreter.")
    models_dir: Path = Field(REPO_ROOT / "models", description="Folder holding the .tflite files.")
    manifest: Path = Field(REPO_ROOT / "models" / "manifest.yaml", description="Model manifest (sha256, tensors).")
    verify_hashes: bool = Field(True, description="Check each model's sha256 against the manifest at load.")


class FaceConfig(Section):
    detector: Literal["auto", "short", "full"] = Field(
        "auto",
        description="'short' (faces near the camera), 'full' (group photos) or 'auto' (both, plus tiles "
        "when more than one face is asked for).",
    )
    min_score: float = Field(0.5, ge=0.05, le=0.99, description="Minimum BlazeFace score for a face.")
    nms_iou: float = Field(0.3, ge=0.05, le=0.95, description="IoU above which detections are merged (weighted NMS).")
    min_mesh_score: float = Field(0.5, ge=0.0, le=1.0, description="Minimum face-mesh presence score.")
    crop_size: int = Field(512, ge=128, le=1024, description="Side of the face-aligned analysis crop (px).")


class RequestConfig(Section):
    max_bytes: int = Field(8 * 1024 * 1024, ge=1024, description="Largest accepted image file (bytes).")
    max_pixels: int = Field(
        40_000_000, ge=10_000, description="Largest width*height read from the header before decoding (bomb guard)."
    )
    max_side: int = Field(10_000, ge=64, description="Largest accepted width or height (px).")
    analysis_width: int = Field(1920, ge=320, description="Images are downscaled to fit analysis_width x analysis_height.")
    analysis_height: int = Field(1080, ge=240, description="See analysis_width; coordinates are always reported in original pixels.")


class ApiConfig(Section):
    host: str = Field("127.0.0.1", description="Bind address. Non-loopback needs at least one API key.")
    port: int = Field(8080, ge=1, le=65535, description="Bind port.")
    api_keys: list[str] = Field(default_factory=list, description="Accepted API keys (X-API-Key / ailabapi-api-key).")
    api_keys_file: str | None = Field(
        None,
        description="File with one API key per line; a bare name is looked up in $CREDENTIALS_DIRECTORY "
        "(systemd LoadCredential=).",
    )
    rate_limit_per_minute: int = Field(60, ge=1, description="Requests per minute allowed per API key.")
    url_allowlist: list[str] = Field(
        default_factory=list, description="Hosts whose private/loopback addresses may be fetched via `url`."
    )
    url_timeout_s: float = Field(5.0, gt=0, le=60, description="Timeout for fetching an image `url`.")
    cache_size: int = Field(128, ge=0, description="Entries in the result LRU cache (0 disables it).")
    cache_ttl_s: float = Field(600.0, ge=0, description="Seconds a cached result stays valid.")
    workers: int = Field(2, ge=1, le=16, description="Inference worker threads (each owns its interpreters).")
    queue_size: int = Field(4, ge=0, le=1000, description="Requests that may wait for a worker before 503 busy.")
    forwarded_allow_ips: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Peers (addresses or networks, or '*') whose X-Forwarded-For / X-Forwarded-Proto uvicorn "
        "believes, i.e. reverse proxies in front of the kiosk: the client address they give decides the "
        "loopback exemption and the take-home reports' local-network check. Default: a proxy on this device "
        "only; [] ignores the headers. Pinned here: the FORWARDED_ALLOW_IPS environment variable is ignored.",
    )

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, v: list[str]) -> list[str]:
        for entry in v:
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is not an IP address, a network (10.0.0.0/8) or '*'") from None
        return v


class CaptureConfig(Section):
    source: Literal["auto", "picamera", "opencv", "replay"] = Field(
        "auto", description="'auto': Pi camera if present, else OpenCV device 0 if it opens, else replay."
    )
    device: str = Field("0", description="OpenCV device index, file path or RTSP URL.")
    replay_path: Path = Field(REPO_ROOT / "data" / "demo", description="Image folder or video file for replay.")
    replay_fps: float = Field(15.0, gt=0, le=120, description="Frame rate of the replay source.")
    main_width: int = Field(1920, ge=320, description="Analysis (main) stream width.")
    main_height: int = Field(1080, ge=240, description="Analysis (main) stream height.")
    lores_width: int = Field(640, ge=160, description="Tracking (lores) stream width.")
    lores_height: int = Field(480, ge=120, description="Tracking (lores) stream height.")
    frame_timeout_s: float = Field(2.0, gt=0, description="Longest wait for one frame before the source is reopened.")
    enabled: bool = Field(
        True, description="`skin-kiosk serve` runs the capture daemon (tracking, gate, auto-capture); False: API and "
        "page only, the preview replaying the demo photos."
    )
    analysis_fields: list[str] | None = Field(
        None, description="face_field names analysed on a capture; None: every field available on this device."
    )


class GateConfig(Section):
    min_face_fraction: float = Field(0.25, gt=0, le=1, description="Face width / frame width needed ('come closer').")
    max_abs_yaw_deg: float = Field(20.0, gt=0, le=90, description="Largest head yaw accepted.")
    max_abs_pitch_deg: float = Field(20.0, gt=0, le=90, description="Largest head pitch accepted.")
    max_abs_roll_deg: float = Field(15.0, gt=0, le=90, description="Largest head roll accepted.")
    min_sharpness: float = Field(40.0, ge=0, description="Minimum variance of the Laplacian on the face ('hold still').")
    min_brightness: float = Field(70.0, ge=0, le=255, description="Minimum mean face luminance ('too dark').")
    max_brightness: float = Field(215.0, ge=0, le=255, description="Maximum mean face luminance ('too bright').")
    max_clipped_fraction: float = Field(0.05, ge=0, le=1, description="Largest share of clipped face pixels.")
    still_frames: int = Field(8, ge=1, description="Frames the face must stay still before capture.")
    max_motion_fraction: float = Field(0.03, gt=0, description="Largest box-centre motion per frame / face width.")
    auto_capture: bool = Field(True, description="Analyse automatically when the gate passes.")


class DiaryConfig(Section):
    path: Path = Field(REPO_ROOT / "var" / "diary.sqlite3", description="SQLite diary file (WAL mode).")
    device_id: str = Field("kiosk-dev", min_length=1, max_length=64, description="Device id sent with summaries.")
    device_secret_file: str | None = Field(
        None, description="Per-device HMAC secret for pseudonymising profile ids (credential name or path)."
    )
    outbox_max_rows: int = Field(100_000, ge=10, description="Outbox bound; see docs for the policy when full.")


class MqttConfig(Section):
    enabled: bool = Field(False, description="Publish anonymised summaries to the broker.")
    host: str = Field("127.0.0.1", description="Broker host.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port.")
    topic_prefix: str = Field("skin-kiosk", min_length=1, description="Topic prefix: <prefix>/<device>/...")
    username: str | None = Field(None, description="Broker user name.")
    password_file: str | None = Field(None, description="Broker password (credential name or path).")
    tls: bool = Field(False, description="Use TLS.")
    ca_file: Path | None = Field(None, description="CA bundle for the broker certificate.")
    cert_file: Path | None = Field(None, description="Client certificate (mutual TLS).")
    key_file: Path | None = Field(None, description="Client key (mutual TLS).")
    keepalive_s: int = Field(30, ge=5, le=3600, description="MQTT keepalive.")
    client_id: str | None = Field(
        None, max_length=128, description="MQTT client id; default 'skin-kiosk-<diary.device_id>' (unique per device)."
    )
    reconnect_min_s: float = Field(1.0, gt=0, le=3600, description="First reconnect delay; doubles per failure.")
    reconnect_max_s: float = Field(120.0, gt=0, le=86400, description="Longest reconnect delay (backoff cap).")
    max_inflight: int = Field(
        50, ge=1, le=65535, description="QoS 1 messages sent and not yet acknowledged (PUBACK) at once."
    )
    max_publish_rate: float | None = Field(
        None, gt=0, description="Messages per second cap for draining the outbox (None: as fast as acked)."
    )
    poll_interval_s: float = Field(
        1.0, gt=0, le=60, description="How often an idle publisher looks for new outbox rows."
    )


class CatalogueConfig(Section):
    path: Path = Field(
        REPO_ROOT / "catalogue" / "catalogue.yaml",
        description="The store's products, YAML (.yaml/.yml) or CSV (.csv); a relative path is taken from the "
        "config file's folder. Product images are files beside it (README: 'Writing the catalogue').",
    )
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$", description="ISO 4217 code the catalogue's prices are in.")
    admin_key: str | None = Field(
        None, min_length=16, description="Key for replacing the catalogue over the API (PUT /api/v1/shop/catalogue, "
        "header X-Admin-Key); with neither this nor admin_key_file the PUT is refused.")
    admin_key_file: str | None = Field(
        None, description="File holding the admin key; a bare name is looked up in $CREDENTIALS_DIRECTORY.")


class ShopConfig(Section):
    report_ttl_s: float = Field(
        900.0, ge=30, le=86_400, description="Seconds a take-home report link (QR code) lives; then 410 and erased.")
    report_base_url: str | None = Field(
        None, pattern=r"^https?://[^/?#\s]+$",
        description="Scheme, host and port phones on the shop's network use to reach this kiosk, put in the QR "
        "code (e.g. http://192.168.1.20:8080); None: the address the page itself was loaded from.")
    max_reports: int = Field(32, ge=1, le=1000, description="Live reports kept in memory; the oldest goes first.")
    shown_products: int = Field(8, ge=1, le=100, description="Ranked product cards in a recommendation.")


class Settings(BaseSettings):
    """The whole configuration. Sections mirror the top-level keys of config.yaml."""

    model_config = SettingsConfigDict(
        extra="forbid", env_prefix=ENV_PREFIX, env_nested_delimiter="__", validate_assignment=True
    )

    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    face: FaceConfig = Field(default_factory=FaceConfig)
    request: RequestConfig = Field(default_factory=RequestConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    capture: CaptureConfig = Field(default_factory=CaptureConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    diary: DiaryConfig = Field(default_factory=DiaryConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    catalogue: CatalogueConfig = Field(default_factory=CatalogueConfig)
    shop: ShopConfig = Field(default_factory=ShopConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the YAML file (passed as init kwargs), which beats defaults.
        return env_settings, init_settings


def _format_validation_error(err: ValidationError, source: str) -> str:
    lines = [f"invalid configuration in {source}:"]
    for e in err.errors():
        path = ".".join(str(p) for p in e["loc"]) or "<root>"
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        lines.append(f"  {path}: {msg} (got {e.get('input')!r})" if e["type"] != "extra_forbidden" else f"  {path}: {msg}")
    return "\n".join(lines)


def load_settings(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Load settings from YAML (default: $SKIN_KIOSK_CONFIG or ./config.yaml) plus env overrides.

    Raises ConfigError with every wrong key path listed.
    """
    if path is None:
        path = os.environ.get(ENV_PREFIX + "CONFIG") or DEFAULT_CONFIG_PATH
    path = Path(path)
    data: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: top level must be a mapping of sections")
        data = loaded
    elif path != DEFAULT_CONFIG_PATH:
        raise ConfigError(f"{path}: config file not found")
    for key, value in (overrides or {}).items():
        data.setdefault(key, {})
        if isinstance(value, dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    try:
        settings = Settings(**data)
    except ValidationError as err:
        raise ConfigError(_format_validation_error(err, str(path))) from err
    if not settings.catalogue.path.is_absolute():  # the store's catalogue lives beside its config
        settings.catalogue.path = path.resolve().parent / settings.catalogue.path
    return settings


def read_secret(name_or_path: str) -> str:
    """Read a secret from a systemd credential (bare name) or a file path; strips whitespace."""
    candidate = Path(name_or_path)
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if not candidate.is_absolute() and cred_dir and (Path(cred_dir) / name_or_path).exists():
        candidate = Path(cred_dir) / name_or_path
    try:
        return candidate.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read secret {name_or_path!r}: {exc.strerror}") from exc


def load_admin_key(cfg: CatalogueConfig) -> str | None:
    """The catalogue admin key (admin_key_file wins over admin_key); None: catalogue replacement is off."""
    if cfg.admin_key_file:
        key = read_secret(cfg.admin_key_file)
        if len(key) < 16:
            raise ConfigError(f"catalogue.admin_key_file {cfg.admin_key_file!r}: the key must have at least 16 characters")
        return key
    return cfg.admin_key
