"""The skin diary: migrations, profiles and PINs, visits + outbox in one transaction, delete my data,
the outbox bound, the device secret. Real SQLite files in tmp_path; no broker here."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.diary import DiaryStore, InvalidPinError, Outbox, PinTakenError, UnknownProfileError
from edge.diary import outbox as outbox_module
from edge.diary.anonymize import (
    hour_of,
    load_or_create_device_secret,
    pseudonymize,
    summarize_face,
)
from edge.diary.db import SCHEMA_VERSION, SchemaTooNewError, connect

SECRET = bytes(range(32))


def face(acne: int = 2, token: str = "f" * 32) -> dict[str, Any]:
    box = {"left": 11.5, "top": 22.5, "right": 33.5, "bottom": 44.5}
    return {
        "face_token": token,
        "location": {"left": 100.0, "top": 120.0, "width": 300.0, "height": 320.0, "degree": 3},
        "skin": {"color": 3, "smooth": 2},
        "acnespotmole": {"acne_num": acne, "acne_list": [{"type": 1, "score": 0.5, **box}] * acne,
                         "speckle_num": 0, "speckle_list": [], "mole_num": 0, "mole_list": []},
        "wrinkle": {"wrinkle_num": 1, "wrinkle_types": [2], "wrinkle_data": [[{"x": 5.5, "y": 6.5}]]},
        "skinface": {"skin_health_check_images": {"src_pic": "/9j/" + "A" * 400}},
    }


@pytest.fixture
def store(tmp_path: Path) -> DiaryStore:
    with DiaryStore(tmp_path / "diary.sqlite3", device_id="kiosk-1", device_secret=SECRET) as s:
        yield s


def outbox_payloads(store: DiaryStore) -> list[dict[str, Any]]:
    return [json.loads(m.payload) for m in store.outbox.pending(limit=10_000)]


# --- schema -----------------------------------------------------------------------------------------


def test_the_file_is_wal_and_migrated_and_reopening_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite3"
    DiaryStore(path, device_secret=SECRET).close()
    conn = connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    with DiaryStore(path, device_secret=SECRET) as again:
        assert again.outbox.count() == 0


def test_a_file_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(SchemaTooNewError):
        connect(path)


# --- visits -----------------------------------------------------------------------------------------


def test_a_visit_and_its_message_are_written_together(store: DiaryStore) -> None:
    visit = store.record_visit(face(), taken_at=1_700_003_599.9)
    [message] = store.outbox.pending()
    payload = json.loads(message.payload)
    assert message.msg_id == payload["msg_id"] == visit.id and message.kind == "visit"
    assert payload["hour"] == "2023-11-14T23:00:00Z" == hour_of(1_700_003_599.9)
    assert payload["subject"] is None and payload["device_id"] == "kiosk-1"
    assert payload["summary"] == visit.summary
    assert visit.summary["acnespotmole"] == {"acne_num": 2, "acne_types": {"1": 2}, "acne_score_mean": 0.5,
                                             "speckle_num": 0, "mole_num": 0}


def test_if_the_outbox_write_fails_the_visit_is_rolled_back(store: DiaryStore, monkeypatch) -> None:
    def broken_enqueue(*_a: Any, **_k: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store.outbox, "enqueue", broken_enqueue)
    profile = store.create_profile()
    with pytest.raises(sqlite3.OperationalError):
        store.record_visit(face(), profile_id=profile.id)
    assert store.history(profile.id) == []


def test_a_visit_for_an_unknown_profile_writes_nothing(store: DiaryStore) -> None:
    with pytest.raises(UnknownProfileError):
        store.record_visit(face(), profile_id="no-such-profile")
    assert store.outbox.count() == 0


def test_images_and_coordinates_are_kept_only_with_opt_in(store: DiaryStore) -> None:
    profile = store.create_profile()
    plain = store.record_visit(face(), profile_id=profile.id)
    tracked = store.record_visit(face(), profile_id=profile.id, opt_in_tracking=True)
    assert store.visit_detail(plain.id) is None and not plain.has_detail
    detail = store.visit_detail(tracked.id)
    assert detail is not None and "skinface" in detail and "location" in detail
    assert "face_token" not in detail
    assert [v.has_detail for v in store.history(profile.id)] == [False, True]
    with pytest.raises(ValueError):
        store.record_visit(face(), opt_in_tracking=True)  # change tracking is for someone


def test_the_diary_row_holds_no_face_token_image_or_coordinates(store: DiaryStore, tmp_path: Path) -> None:
    store.record_visit(face(token="c0ffee" * 5 + "ab"))
    dump = "\n".join(store._conn.iterdump())  # noqa: SLF001 - reading the file's whole content
    assert "c0ffee" not in dump and "/9j/" not in dump and "22.5" not in dump


def test_concern_scores_stay_local_newest_first_and_go_with_the_profile(store: DiaryStore) -> None:
    profile = store.create_profile()
    first = store.record_visit(face(), profile_id=profile.id, taken_at=1000.0, concerns={"acne": 12.5}, concerns_version=1)
    store.record_visit(face(), profile_id=profile.id, taken_at=2000.0)  # no scores: not in the history
    second = store.record_visit(face(), profile_id=profile.id, taken_at=3000.0, concerns={"acne": 20.0, "pores": 3.0},
                                concerns_version=1)
    got = store.concern_history(profile.id)
    assert [(v.visit_id, v.taken_at, v.version, v.scores) for v in got] == [
        (second.id, 3000.0, 1, {"acne": 20.0, "pores": 3.0}), (first.id, 1000.0, 1, {"acne": 12.5})]
    assert all("concern" not in json.dumps(p) for p in outbox_payloads(store))  # never in what may leave
    assert store.delete_profile(profile.id)
    assert store.concern_history(profile.id) == []
    assert store._conn.execute("SELECT COUNT(*) FROM visit_concerns").fetchone()[0] == 0


def test_history_is_oldest_first_with_flat_metrics_for_trends(store: DiaryStore) -> None:
    profile = store.create_profile()
    for i, acne in enumerate([5, 3, 1]):
        store.record_visit(face(acne=acne), profile_id=profile.id, taken_at=1_700_000_000 + i * 86400)
    store.record_visit(face(acne=9))  # someone else
    history = store.history(profile.id)
    assert [v.metrics["acnespotmole.acne_num"] for v in history] == [5, 3, 1]
    assert history[0].metrics["skin.color"] == 3 and history[0].metrics["wrinkle.wrinkle_types.2"] == 1
    assert [v.metrics["acnespotmole.acne_num"] for v in store.history(profile.id, limit=2)] == [3, 1]
    assert store.history("unknown") == []


def test_concurrent_writers_lose_nothing(store: DiaryStore) -> None:
    def write(n: int) -> None:
        for _ in range(n):
            store.record_visit(face())

    threads = [threading.Thread(target=write, args=(50,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.outbox.count() == 200 == len({m.msg_id for m in store.outbox.pending(limit=1000)})


# --- profiles and PINs ------------------------------------------------------------------------------


def test_a_pin_finds_its_profile_and_is_stored_only_as_a_salted_hash(store: DiaryStore) -> None:
    alice, bob = store.create_profile(pin="482193"), store.create_profile(pin="111222")
    assert store.find_profile_by_pin("482193") == alice and store.find_profile_by_pin("111222") == bob
    assert store.find_profile_by_pin("000000") is None and store.find_profile_by_pin("1") is None
    dump = "\n".join(store._conn.iterdump())  # noqa: SLF001
    assert "482193" not in dump and "111222" not in dump
    hashes = [r[0] for r in store._conn.execute("SELECT pin_hash FROM profiles")]  # noqa: SLF001
    assert all(h.startswith(("scrypt$", "pbkdf2$")) for h in hashes) and len(set(hashes)) == 2
    assert store.get_profile(alice.id) == alice and len(alice.id) >= 20


def test_a_pin_must_be_unique_and_sensible(store: DiaryStore) -> None:
    store.create_profile(pin="258013")
    with pytest.raises(PinTakenError):
        store.create_profile(pin="258013")
    for bad in ["", "12", "2580", "12345", "      ", "123\n456"]:  # at least 6 characters
        with pytest.raises(InvalidPinError):
            store.create_profile(pin=bad)
    assert store.create_profile().has_pin is False


# --- delete my data ---------------------------------------------------------------------------------


def test_delete_my_data_removes_rows_withdraws_unsent_visits_and_queues_a_tombstone(store: DiaryStore) -> None:
    keep, gone = store.create_profile(), store.create_profile(pin="739104")
    store.record_visit(face(), profile_id=keep.id)
    visit = store.record_visit(face(), profile_id=gone.id, opt_in_tracking=True)
    assert store.delete_profile(gone.id) is True

    assert store.get_profile(gone.id) is None and store.history(gone.id) == []
    assert store.visit_detail(visit.id) is None and store.find_profile_by_pin("739104") is None
    payloads = outbox_payloads(store)
    subject = pseudonymize(gone.id, SECRET)
    assert [p["kind"] for p in payloads] == ["visit", "tombstone"]
    assert payloads[0]["subject"] == pseudonymize(keep.id, SECRET)
    assert payloads[1]["subject"] == subject and payloads[1]["schema"] == "skin-kiosk/tombstone/1"
    assert len(store.history(keep.id)) == 1
    assert store.delete_profile(gone.id) is False and store.outbox.count() == 2


# --- the outbox -------------------------------------------------------------------------------------


def test_a_full_outbox_drops_the_oldest_visits_but_never_a_tombstone(tmp_path: Path) -> None:
    with DiaryStore(tmp_path / "d.sqlite3", device_secret=SECRET, outbox_max_rows=10) as store:
        profile = store.create_profile()
        store.delete_profile(profile.id)  # tombstone first: the oldest row
        first = [store.record_visit(face()).id for _ in range(12)]
        stats = store.outbox_stats()
        assert (stats.pending, stats.pending_tombstones, stats.dropped_total, stats.max_rows) == (10, 1, 3, 10)
        kinds_ids = [(m.kind, m.msg_id) for m in store.outbox.pending(limit=100)]
        assert kinds_ids[0][0] == "tombstone" and [i for _, i in kinds_ids[1:]] == first[3:]
        for _ in range(12):  # tombstones are accepted even beyond the bound
            store.delete_profile(store.create_profile().id)
        assert store.outbox_stats().pending_tombstones == 13


def test_the_publisher_side_reads_in_order_and_deletes_acknowledged_rows(store: DiaryStore) -> None:
    ids = [store.record_visit(face()).id for _ in range(5)]
    reader = Outbox.open(store.path)  # its own connection, as a publisher process would have
    try:
        batch = reader.pending(limit=3)
        assert [m.msg_id for m in batch] == ids[:3]
        assert [m.msg_id for m in reader.pending(after_seq=batch[-1].seq)] == ids[3:]
        assert reader.delete([batch[0].seq, batch[2].seq]) == 2 and reader.delete([batch[0].seq]) == 0
        assert [m.msg_id for m in store.outbox.pending()] == [ids[1], ids[3], ids[4]]
        assert store.outbox.count() == reader.count() == 3 and reader.stats().oldest_age_s is not None
    finally:
        reader.close()


def test_with_sync_disabled_visits_stay_local_but_tombstones_are_queued(tmp_path: Path) -> None:
    with DiaryStore(tmp_path / "d.sqlite3", device_secret=SECRET, outbox_enabled=False) as store:
        profile = store.create_profile()
        store.record_visit(face(), profile_id=profile.id)
        assert store.outbox.count() == 0 and len(store.history(profile.id)) == 1
        store.delete_profile(profile.id)
        assert [p["kind"] for p in outbox_payloads(store)] == ["tombstone"]


def test_outbox_default_bound_matches_config_default() -> None:
    from edge.config import DiaryConfig

    assert DiaryConfig().outbox_max_rows == outbox_module.DEFAULT_MAX_ROWS


# --- device secret and pseudonyms -------------------------------------------------------------------


def test_the_device_secret_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "device-secret"
    first = load_or_create_device_secret(path)
    assert len(first) == 32 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_device_secret(path) == first
    with DiaryStore(tmp_path / "var" / "diary.sqlite3") as store:  # default: next to the diary
        profile = store.create_profile()
        store.record_visit(face(), profile_id=profile.id)
        assert outbox_payloads(store)[0]["subject"] == pseudonymize(profile.id, first)


def test_pseudonyms_are_stable_per_device_and_unlinkable_across_devices() -> None:
    a = pseudonymize("profile-1", SECRET)
    assert a == pseudonymize("profile-1", SECRET) and len(a) == 64
    assert a != pseudonymize("profile-1", b"another kiosk") and a != pseudonymize("profile-2", SECRET)


def test_the_configured_secret_file_is_used(tmp_path: Path) -> None:
    from edge.config import load_settings

    (tmp_path / "secret").write_text("00" * 32)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"diary:\n  path: {tmp_path / 'd.sqlite3'}\n  device_secret_file: {tmp_path / 'secret'}\n")
    with DiaryStore.from_settings(load_settings(cfg)) as store:
        profile = store.create_profile()
        store.delete_profile(profile.id)
        assert outbox_payloads(store)[0]["subject"] == pseudonymize(profile.id, bytes(32))
    assert not (tmp_path / "device-secret").exists()


# --- summaries --------------------------------------------------------------------------------------


def test_the_summary_keeps_metrics_and_drops_everything_positional() -> None:
    summary = summarize_face(face())
    assert summary == {
        "skin": {"color": 3, "smooth": 2},
        "acnespotmole": {"acne_num": 2, "acne_types": {"1": 2}, "acne_score_mean": 0.5, "speckle_num": 0,
                         "mole_num": 0},
        "wrinkle": {"wrinkle_num": 1, "wrinkle_types": {"2": 1}},
    }
    assert summarize_face({}) == {} and summarize_face(None) == {}


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
face_keys = st.sampled_from(["skin", "acnespotmole", "wrinkle", "eyesattr", "blackheadpore", "skinface",
                             "skinquality", "extended", "face_token", "location"])
inner_keys = st.sampled_from(["color", "smooth", "acne_num", "acne_list", "speckle_list", "mole_list",
                              "wrinkle_num", "wrinkle_types", "dark_circle_left_type", "eye_bags_right_type",
                              "poly", "pore_segs_type", "blackhead_segs_type", "skin_dryoil_check",
                              "skin_sensitive_check", "scores", "ita_deg", "left", "x"])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(face_keys, st.one_of(json_values, st.dictionaries(inner_keys, json_values)), max_size=8))
def test_summaries_never_raise_and_are_plain_json(garbled: dict[str, Any]) -> None:
    summary = summarize_face(garbled)
    text = json.dumps(summary, allow_nan=False)  # no NaN/inf sneaks through
    assert json.loads(text) == summary
    assert not {"face_token", "location", "left", "x", "skinface"} & set(text.replace('"', " ").split())
