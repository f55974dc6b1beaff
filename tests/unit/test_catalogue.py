"""The store's catalogue: the demo file validates; wrong products fail with their row and field (bad
concern, duplicate id, missing image, unknown field); CSV and YAML read the same; check-config checks it;
the atomic write leaves the old file on failure."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edge.api.shop_state import write_atomically
from edge.config import REPO_ROOT, ConfigError, load_settings
from edge.shop.catalogue import CatalogueError, load_catalogue, parse_catalogue
from edge.shop.vocabulary import CONCERNS, STEPS

DEMO = REPO_ROOT / "catalogue" / "catalogue.yaml"
CSV_HEADER = "id,name,brand,price,image,concerns,skin_types,tones,not_for,step,description\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A catalogue folder with two product images."""
    (tmp_path / "images").mkdir()
    for name in ("a.png", "b.png"):
        shutil.copy(REPO_ROOT / "catalogue" / "images" / "sel-cl1.png", tmp_path / "images" / name)
    return tmp_path


def yaml_product(pid: str = "P1", image: str = "images/a.png", concerns: str = "[acne, pores]",
                 extra: str = "") -> str:
    return (f"  - id: {pid}\n    name: Test Gel\n    brand: Testbrand\n    price: 9.5\n    image: {image}\n"
            f"    concerns: {concerns}\n    skin_types: [all]\n    step: treat\n{extra}")


def problems_of(text: str, fmt: str, folder: Path) -> list[str]:
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(text, fmt, folder, currency="EUR")
    return info.value.problems


def test_the_demo_catalogue_validates_and_covers_every_concern_and_step():
    catalogue = load_catalogue(DEMO, currency="EUR")
    assert 25 <= len(catalogue.products) <= 40
    assert {c for p in catalogue.products for c in p.concerns} == set(CONCERNS)
    assert {p.step for p in catalogue.products} == set(STEPS)
    assert all(catalogue.image_path(p).is_file() for p in catalogue.products)
    assert any("sensitive_skin" in p.not_for for p in catalogue.products)


def test_bad_concern_names_its_row_and_field(folder):
    text = "products:\n" + yaml_product("P1") + yaml_product("P2", concerns="[acne, freckles]")
    problems = problems_of(text, "yaml", folder)
    assert len(problems) == 1
    assert problems[0].startswith("product 2 (line 10), id 'P2', field concerns: unknown concern 'freckles'")


def test_moles_cannot_be_a_product_concern(folder):
    problems = problems_of("products:\n" + yaml_product(concerns="[moles]"), "yaml", folder)
    assert "field concerns" in problems[0] and "no product may claim" in problems[0]


def test_duplicate_id_names_both_rows(folder):
    text = "products:\n" + yaml_product("P1") + yaml_product("P1", image="images/b.png")
    assert problems_of(text, "yaml", folder) == [
        "product 2 (line 10), id 'P1', field id: duplicate id 'P1' (first at product 1 (line 2))"]


def test_missing_image_and_image_outside_the_folder(folder):
    text = "products:\n" + yaml_product("P1", image="images/nope.png") + yaml_product("P2", image="../x.png")
    problems = problems_of(text, "yaml", folder)
    assert problems[0].startswith("product 1 (line 2), id 'P1', field image: 'images/nope.png': image file not found")
    assert problems[1].startswith("product 2 (line 10), id 'P2', field image: '../x.png': the image must be inside")


def test_unknown_field_missing_field_bad_price_and_step(folder):
    text = ("products:\n" + yaml_product("P1", extra="    colour: red\n")
            + "  - id: P2\n    name: X\n    brand: Y\n    price: -3\n    image: images/a.png\n    concerns: [acne]\n"
              "    skin_types: [all]\n    step: exfoliate\n"
            + "  - id: P3\n    name: X\n    brand: Y\n    price: 3\n    image: images/a.png\n    concerns: [acne]\n")
    problems = problems_of(text, "yaml", folder)
    assert "product 1 (line 2), id 'P1', field colour: unknown field" in problems
    assert "product 2 (line 11), id 'P2', field price: Input should be greater than or equal to 0" in problems
    assert any(p.startswith("product 2 (line 11), id 'P2', field step: unknown step 'exfoliate'") for p in problems)
    assert "product 3 (line 19), id 'P3', field skin_types: Field required" in problems
    assert "product 3 (line 19), id 'P3', field step: Field required" in problems


def test_csv_rows_are_spreadsheet_rows(folder):
    text = (CSV_HEADER + "P1,Gel,Brand,\"9,50\",images/a.png,acne; pores,all,,,treat,\n"
            "\n"  # a blank row is skipped, but still counts in the numbering
            "P2,Cream,Brand,12,images/b.png,Dark circles;wrinkles,dry;normal,light,sensitive,moisturize,Rich\n"
            "P3,Bad,Brand,5,images/a.png,acne,oily,,,treat,\n"
            "P3,Bad,Brand,5,images/a.png,sunburn,oily,,,treat,\n")
    problems = problems_of(text, "csv", folder)
    assert problems == ["row 6, id 'P3', field concerns: unknown concern 'sunburn' (one of: "
                        + ", ".join(CONCERNS) + ")"]
    good = parse_catalogue(text.rsplit("P3,Bad", 1)[0], "csv", folder, currency="EUR")
    p2 = good.by_id("P2")
    assert p2 is not None and good.by_id("P1").price == 9.5  # a decimal comma reads as a point
    assert (p2.concerns, p2.skin_types, p2.tones, p2.not_for, p2.step) == (
        ("dark_circles", "wrinkles"), ("dry", "normal"), ("light",), ("sensitive_skin",), "moisturise")


def test_csv_header_problems(folder):
    assert problems_of("id,name,colour\n", "csv", folder)[0] == (
        "row 1: unknown column 'colour' (columns: id, name, brand, price, image, concerns, skin_types, tones, "
        "not_for, step, description)")
    assert problems_of("", "csv", folder) == ["empty CSV: the first row must name the columns"]


def test_yaml_shape_problems(folder):
    assert problems_of("- a\n", "yaml", folder)[0].startswith("the top level must be a mapping")
    assert problems_of("products: [unclosed\n", "yaml", folder)[0].startswith("not valid YAML")
    assert problems_of("products: []\n", "yaml", folder) == ["no products"]


def test_catalogue_path_is_relative_to_the_config_file(tmp_path, folder):
    (folder / "shelf.yaml").write_text("products:\n" + yaml_product())
    cfg = folder / "config.yaml"
    cfg.write_text("catalogue:\n  path: shelf.yaml\n  currency: CHF\n")
    settings = load_settings(cfg)
    assert settings.catalogue.path == (folder / "shelf.yaml").resolve()
    assert load_catalogue(settings.catalogue.path, currency=settings.catalogue.currency).currency == "CHF"


def test_bad_catalogue_config(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("catalogue:\n  currency: euro\n")
    with pytest.raises(ConfigError, match="catalogue.currency"):
        load_settings(cfg)
    cfg.write_text("catalogue:\n  admin_key: short\n")
    with pytest.raises(ConfigError, match="catalogue.admin_key"):
        load_settings(cfg)


# A config with nothing for check-config to warn about but the catalogue: the take-home link on the LAN.
LAN = ("api:\n  host: 192.168.1.20\n  api_keys: [test-key-0123456789abcdef]\n"
       "shop:\n  report_base_url: http://192.168.1.20:8080\n")


def test_check_config_warns_about_the_catalogue_and_strict_fails_on_it(tmp_path, folder, capsys):
    """A broken catalogue disables the shop only (the kiosk keeps serving), so check-config, which the
    service runs before it starts, reports it as a warning and exits 0; --strict (the admin's check
    after editing the catalogue) exits EXIT_SHOP; a broken config or model still exits 2."""
    from edge.cli import EXIT_CONFIG, EXIT_SHOP, main

    (folder / "shelf.yaml").write_text("products:\n" + yaml_product() + yaml_product("P2", concerns="[tan]"))
    cfg = folder / "config.yaml"
    cfg.write_text("catalogue:\n  path: shelf.yaml\n" + LAN)
    assert main(["check-config", str(cfg)]) == 0
    out = capsys.readouterr()
    assert "warning: invalid catalogue" in out.err and "the kiosk serves without its shop" in out.err
    assert "product 2 (line 10), id 'P2', field concerns: unknown concern 'tan'" in out.err
    assert "config ok; the shop has 1 warning(s)" in out.out
    assert main(["check-config", "--strict", str(cfg)]) == EXIT_SHOP
    (folder / "shelf.yaml").write_text("products:\n" + yaml_product())
    assert main(["check-config", "--strict", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "catalogue ok: 1 products" in out and out.rstrip().endswith("config ok")
    cfg.write_text("catalogue:\n  path: shelf.yaml\n  admin_key_file: /nonexistent/admin-key\n" + LAN)
    assert main(["check-config", str(cfg)]) == 0  # an unreadable admin key turns replacement off, no more
    assert "catalogue replacement over the API is off" in capsys.readouterr().err
    assert main(["check-config", "--strict", str(cfg)]) == EXIT_SHOP
    cfg.write_text("catalogue:\n  path: shelf.yaml\n  colour: red\n")
    assert main(["check-config", str(cfg)]) == main(["check-config", "--strict", str(cfg)]) == EXIT_CONFIG


@pytest.mark.parametrize("text,why", [
    ("products: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
    ("products:\n" + "  - " * 1 + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
])
def test_deeply_nested_yaml_is_a_catalogue_error(folder, text, why):
    assert any(why in p for p in problems_of(text, "yaml", folder))


def test_a_csv_cell_over_the_field_limit_is_a_catalogue_error(folder):
    huge = CSV_HEADER + "P1,Gel,Brand,9.5,images/a.png,acne,all,all,,treat," + "x" * 200_000 + "\n"
    assert problems_of(huge, "csv", folder) == [
        "row 2: not valid CSV: field larger than field limit (131072)"]


def test_check_config_reports_a_malformed_catalogue_without_a_traceback(folder, capsys):
    from edge.cli import main

    (folder / "shelf.yaml").write_text("products: " + "[" * 100_000 + "]" * 100_000 + "\n")
    cfg = folder / "config.yaml"
    cfg.write_text("catalogue:\n  path: shelf.yaml\n" + LAN)
    assert main(["check-config", str(cfg)]) == 0
    err = capsys.readouterr().err
    assert "nested too deeply" in err and "Traceback" not in err


def test_a_reader_bug_at_start_up_disables_only_the_shop(folder, monkeypatch):
    """Whatever the catalogue reader raises at start-up, the kiosk starts without its shop."""
    from edge.api import shop_state

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(shop_state, "load_catalogue", broken)
    settings = load_settings(REPO_ROOT / "config.yaml")
    holder = shop_state.CatalogueHolder(settings)
    assert holder.catalogue is None and "RuntimeError: a bug" in (holder.error or "")


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "shelf.yaml"
    target.write_text("old\n")
    write_atomically(target, "new\n")
    assert target.read_text() == "new\n"

    def fail(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(OSError):
        write_atomically(target, "newer\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["shelf.yaml"]  # no temp file left behind
