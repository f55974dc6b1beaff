"""The direction of the arrows (../shared/design.md), checked on every import statement, lazy ones
included: `edge.api` knows nothing of `edge.kiosk` (the `serve` composition root, edge/serve.py, joins
them), and the capture protocol module imports none of its implementations (edge/capture/factory.py
chooses the source)."""

from __future__ import annotations

import ast
from pathlib import Path

EDGE = Path(__file__).resolve().parents[2] / "edge"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_api_does_not_import_kiosk() -> None:
    offenders = {str(p.relative_to(EDGE)): sorted(m for m in imported_modules(p) if m.startswith("edge.kiosk"))
                 for p in (EDGE / "api").rglob("*.py")}
    assert not {k: v for k, v in offenders.items() if v}


def test_capture_protocol_imports_no_implementation() -> None:
    impls = {"edge.capture.opencv", "edge.capture.picamera", "edge.capture.replay", "edge.capture.factory"}
    assert not imported_modules(EDGE / "capture" / "base.py") & impls
    for impl in ("opencv", "picamera", "replay"):
        assert "edge.capture.factory" not in imported_modules(EDGE / "capture" / f"{impl}.py")


def test_analysis_and_face_import_no_outer_layer() -> None:
    outer = ("edge.api", "edge.kiosk", "edge.diary", "edge.sync")
    for room in ("analysis", "face"):
        for p in (EDGE / room).rglob("*.py"):
            assert not [m for m in imported_modules(p) if m.startswith(outer)], p


def test_shop_uses_no_other_room() -> None:
    """edge/shop is pure (design: it may use nothing else of edge): the API passes it plain data."""
    for p in (EDGE / "shop").rglob("*.py"):
        foreign = [m for m in imported_modules(p) if m.startswith("edge.") and not m.startswith("edge.shop")]
        assert not foreign, (p, foreign)


def test_formats_use_only_the_shops_neutral_skin_type_rule() -> None:
    """The skin-type rule is shared by the vendor formats and the shop (one rule, not two copies): it lives
    in edge/shop/skin_type.py, which imports nothing of edge, and it is all the formats take from the shop."""
    assert not [m for m in imported_modules(EDGE / "shop" / "skin_type.py") if m.startswith("edge")]
    for p in (EDGE / "formats").rglob("*.py"):
        shop = [m for m in imported_modules(p) if m.startswith("edge.shop")]
        assert set(shop) <= {"edge.shop.skin_type"}, (p, shop)
