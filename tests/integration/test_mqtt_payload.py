"""What leaves the device: no image, no base64, no coordinates, no face_token — and exactly the
shape that docs/payload.schema.json and docs/payload-schema.md describe."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mqtt_harness import REPO_ROOT, sample_face, validate_schema, wait_until, write_kiosk_config

from edge.config import load_settings
from edge.diary import DiaryStore
from edge.diary.anonymize import summarize_face, visit_payload

# Keys that carry positions or outlines anywhere in the seed's face object.
COORDINATE_KEYS = {"x", "y", "r", "left", "top", "right", "bottom", "width", "height", "degree", "point", "poly",
                   "circles", "location", "wrinkle_data", "dark_circle_left", "dark_circle_right",
                   "eye_bags_left", "eye_bags_right", "landmark", "landmark72", "landmark150", "landmarks"}
IMAGE_KEYS = {"skinface", "skin_health_check_images", "src_pic", "gray_pic", "brown_pic", "red_pic", "image"}
BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{40,}")


def all_keys_and_strings(value: Any) -> tuple[set[str], list[str]]:
    keys: set[str] = set()
    strings: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            keys.update(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            strings.append(item)
    return keys, strings


def assert_nothing_private(payload: dict[str, Any], faces: list[dict[str, Any]]) -> None:
    keys, strings = all_keys_and_strings(payload)
    assert not keys & COORDINATE_KEYS, keys & COORDINATE_KEYS
    assert not keys & IMAGE_KEYS and "face_token" not in keys
    for text in strings:
        if text in (payload.get("subject"),):
            continue  # the 64-hex pseudonym is the one long token allowed
        assert not BASE64_RUN.search(text), f"base64-like data in payload: {text[:60]}"
    raw = json.dumps(payload)
    for face in faces:
        assert face["face_token"] not in raw
        assert face["skinface"]["skin_health_check_images"]["src_pic"][:32] not in raw


def test_published_payloads_hold_only_metrics_and_match_the_schema(
    broker, collector_factory, publisher_factory, payload_schema: dict[str, Any], tmp_path: Path
) -> None:
    collector = collector_factory(broker.port)
    config = write_kiosk_config(tmp_path / "kiosk", broker.port)
    faces = [sample_face(i) for i in range(6)]
    with DiaryStore.from_settings(load_settings(config)) as store:
        profile = store.create_profile(pin="135791")
        ids = {store.record_visit(face, profile_id=profile.id if i % 2 else None,
                                  opt_in_tracking=bool(i % 2)).id for i, face in enumerate(faces)}
        publisher_factory(config)
        assert collector.wait_for_ids(ids, timeout=10)
        store.delete_profile(profile.id)
        assert wait_until(lambda: len(collector.on("tombstone")) == 1, 10)

    messages = collector.on("visit") + collector.on("tombstone")
    for message in messages:
        payload = json.loads(message.payload)
        validate_schema(payload, payload_schema)
        assert_nothing_private(payload, faces)
        assert message.topic == f"test-kiosk/kiosk-test/{payload['kind']}"
        assert payload["hour"].endswith(":00:00Z")
    # The summary is not empty: every metric section of the contract made it through.
    summary = collector.payloads("visit")[0]["summary"]
    assert set(summary) == {"skin", "acnespotmole", "wrinkle", "eyesattr", "blackheadpore", "skinquality",
                            "extended"}


def test_every_schema_field_is_documented_in_the_markdown(payload_schema: dict[str, Any]) -> None:
    doc = (REPO_ROOT / "docs" / "payload-schema.md").read_text()
    defs = payload_schema["$defs"]
    names = set(defs["visit"]["properties"]) | set(defs["tombstone"]["properties"])
    for section, spec in defs["summary"]["properties"].items():
        names.add(section)
        names.update(spec["properties"])
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert not missing, f"fields in payload.schema.json but not in payload-schema.md: {missing}"


# Any subset of fields, with any subset of their keys, summarises to a payload the schema accepts.
FULL_FACE = sample_face(3)
face_subsets = st.fixed_dictionaries({}, optional={
    key: (st.fixed_dictionaries({}, optional={k: st.just(v) for k, v in value.items()})
          if isinstance(value, dict) else st.just(value))
    for key, value in FULL_FACE.items()
})
junk = st.one_of(st.none(), st.booleans(), st.integers(-5, 10), st.floats(allow_nan=True), st.text(max_size=5),
                 st.lists(st.integers(-2, 8), max_size=4), st.dictionaries(st.text(max_size=3), st.integers()))
junk_faces = st.dictionaries(st.sampled_from(sorted(FULL_FACE)),
                             st.one_of(junk, st.dictionaries(st.sampled_from(
                                 ["color", "smooth", "acne_num", "acne_list", "wrinkle_types", "pore_segs_type",
                                  "skin_dryoil_check", "scores", "dark_circle_left_type", "poly"]), junk)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(face=st.one_of(face_subsets, junk_faces))
def test_any_subset_or_malformed_face_summarises_to_a_valid_private_payload(
    face: dict[str, Any], payload_schema: dict[str, Any]
) -> None:
    payload = visit_payload(msg_id="0b7c2a4e-1f3d-4c5e-9a8b-7c6d5e4f3a2b", device_id="kiosk-test",
                            subject=None, taken_at=1_700_000_000.5, summary=summarize_face(face))
    validate_schema(json.loads(json.dumps(payload)), payload_schema)
    keys, _ = all_keys_and_strings(payload)
    assert not keys & (COORDINATE_KEYS | IMAGE_KEYS | {"face_token"})


def test_the_schema_itself_rejects_private_data(payload_schema: dict[str, Any]) -> None:
    """Guards the guard: the schema is closed, so a leaked key fails validation."""
    import pytest
    from mqtt_harness import SchemaError

    good = visit_payload(msg_id="0b7c2a4e-1f3d-4c5e-9a8b-7c6d5e4f3a2b", device_id="k", subject=None,
                         taken_at=0, summary=summarize_face(FULL_FACE))
    validate_schema(good, payload_schema)
    leaks = [
        {**good, "face_token": "ab" * 16},
        {**good, "summary": {**good["summary"], "location": {"left": 1}}},
        {**good, "summary": {**good["summary"], "wrinkle": {"wrinkle_num": 1, "wrinkle_data": [[{"x": 1}]]}}},
        {**good, "summary": {**good["summary"], "skinface": {"src_pic": "QUJD"}}},
        {**good, "hour": "2025-03-01T14:37:00Z"},
        {**good, "subject": "a-raw-profile-id"},
    ]
    for leak in leaks:
        with pytest.raises(SchemaError):
            validate_schema(leak, payload_schema)
