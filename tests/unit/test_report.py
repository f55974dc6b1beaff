"""The take-home report: HTML (escaped, every image inline) and a one-page PDF from the same data; the
report store's TTL, bound and "delete my data"; which clients count as the local network."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from edge.api.shop_state import ReportStore, is_local_network, load_concern_table
from edge.config import REPO_ROOT
from edge.shop.catalogue import load_catalogue
from edge.shop.change import changes
from edge.shop.concerns import ConcernScore, SkinProfile
from edge.shop.matcher import recommend
from edge.shop.report import (
    TEMPLATE_FILE,
    ReportData,
    RoutineItem,
    compile_template,
    pdf_text,
    render_html,
    render_pdf,
)
from edge.shop.vocabulary import CONCERNS

PROFILE = SkinProfile("combination", "1", "light", True, 2)
TEMPLATE = compile_template(TEMPLATE_FILE.read_text(encoding="utf-8"))


def data(with_changes: bool = True) -> ReportData:
    catalogue = load_catalogue(REPO_ROOT / "catalogue" / "catalogue.yaml", currency="EUR")
    scores = {c: ConcernScore(c, float(10 + 7 * i), "forehead" if i % 2 else "", "measured") for i, c in enumerate(CONCERNS)}
    scores["eye_bags"] = ConcernScore("eye_bags", None)
    rec = recommend(catalogue, scores, PROFILE)
    items = [RoutineItem(p, catalogue.image_path(p.product).read_bytes()) for p in rec.routine]
    now = {c: s.score for c, s in scores.items() if s.score is not None}
    before = {c: max(0.0, v - 30) for c, v in now.items()}
    return ReportData(list(scores.values()), PROFILE, items, "EUR",
                      changes(before, now, load_concern_table().mdc) if with_changes else None,
                      previous_visit_at=1.7e9 if with_changes else None, overlay_jpeg=None,
                      created_at=1.7e9 + 86400, expires_at=1.7e9 + 87300)


def test_html_has_every_concern_the_routine_and_inline_images_only():
    d = data()
    html = render_html(d, TEMPLATE, "/r/x.pdf")
    assert html.count("<tr data-concern=") == len(CONCERNS)
    assert html.count('class="product"') == len(d.routine) >= 3
    assert "not measured" in html and "worse by" in html
    assert 'src="http' not in html and "src=\"/" not in html  # nothing to fetch: it works offline
    assert html.count("data:image/png;base64,") == len(d.routine)


def test_html_escapes_what_the_store_wrote():
    d = data()
    pick = d.routine[0].pick
    evil = pick.product.model_copy(update={"name": "<script>alert(1)</script>"})
    d.routine[0] = RoutineItem(type(pick)(evil, pick.relevance, pick.coverage, pick.names_skin_type, pick.reason,
                                          pick.addressed), None)
    html = render_html(d, TEMPLATE)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("with_changes", [True, False])
def test_pdf_is_one_page(with_changes):
    pdf = render_pdf(data(with_changes))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Your routine" in text and "Cleanse" in text
    assert ("Since last visit" in text) is with_changes


def test_pdf_text_is_latin1():
    assert pdf_text("42 → 60, ±9 · ok") == "42 -> 60, +/-9 - ok"
    assert pdf_text("café 漢") == "café ?"


def test_report_store_ttl_bound_and_delete_my_data():
    now = [1000.0]
    store = ReportStore(ttl_s=900, max_reports=3, clock=lambda: now[0])
    d = data(False)
    a = store.add(store.new_token(), d, "a", "r1", None)
    assert store.get(a.token) == (a, False)
    now[0] += 901
    assert store.get(a.token) == (None, True)  # expired: gone, answered 410
    assert store.get("never") == (None, False)  # unknown: 404
    tokens = [store.add(store.new_token(), d, str(i), f"r{i}", "p1" if i == 0 else None).token for i in range(4)]
    assert len(store) == 3 and store.get(tokens[0]) == (None, True)  # the oldest made room
    assert store.delete_mine() == 3 and len(store) == 0
    later = store.add(store.new_token(), d, "x", "r9", "p2")
    other = store.add(store.new_token(), d, "y", "r9", None)
    assert store.delete_profile("p2") == 1 and store.get(later.token) == (None, True)
    assert store.get(other.token)[0] is other
    assert len({store.new_token() for _ in range(100)}) == 100


@pytest.mark.parametrize("host,local", [
    ("127.0.0.1", True), ("::1", True), ("192.168.1.20", True), ("10.2.3.4", True), ("172.16.0.9", True),
    ("fe80::1", True), ("fd00::5", True), ("::ffff:192.168.0.3", True), ("169.254.3.3", True),
    ("203.0.113.7", False), ("100.64.1.1", False), ("8.8.8.8", False), ("2001:4860::8888", False), ("::ffff:8.8.8.8", False),
    ("", False), ("testclient", False)])
def test_local_network(host, local):
    assert is_local_network(host) is local
