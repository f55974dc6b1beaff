"""The store's catalogue: its products, validated like the config (pydantic, unknown keys refused).

A catalogue is a YAML file (`products:` list of mappings) or a CSV file (one product per row, list cells
separated by `;`), with the product images as local files beside it. A wrong product fails with where
it is (YAML: its position in `products` and its line; CSV: its spreadsheet row, the header being row 1)
and which field is wrong; duplicate ids and images that are missing or outside the catalogue's folder
are errors too. README "Writing the catalogue" shows both forms.

    catalogue = load_catalogue(Path("catalogue/catalogue.yaml"), currency="EUR")
    catalogue.products[0].concerns        # ('acne', 'oiliness')
    text = Path("new.csv").read_text(); parse_catalogue(text, "csv", folder, currency="EUR")
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from edge.shop.vocabulary import (
    ALL,
    CONCERN_ALIASES,
    CONCERNS,
    CONTRAINDICATION_ALIASES,
    CONTRAINDICATIONS,
    NOT_A_PRODUCT_CONCERN,
    SKIN_TYPES,
    STEP_ALIASES,
    STEPS,
    TONES,
    normalise,
)

FORMATS = ("yaml", "csv")
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
               ".svg": "image/svg+xml"}  # the product pictures a catalogue may name, and their media types
IMAGE_SUFFIXES = tuple(IMAGE_TYPES)
MAX_PRODUCTS = 2000  # a shop's shelf, not a warehouse: bounds the work of a reload
MAX_FILE_BYTES = 2 * 1024 * 1024  # a 2,000-product CSV is ~300 kB; more is a mistake
MAX_PRICE = 100_000.0
LIST_SEPARATOR = ";"  # CSV cells holding lists: "acne; oiliness"
CSV_COLUMNS = ("id", "name", "brand", "price", "image", "concerns", "skin_types", "tones", "not_for", "step",
               "description")
CSV_LIST_COLUMNS = ("concerns", "skin_types", "tones", "not_for")


class CatalogueError(ValueError):
    """The catalogue cannot be used; `problems` lists each wrong product and field, one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"invalid catalogue {source}:\n" + "\n".join(f"  {p}" for p in problems))


def _words(value: Any) -> list[str]:
    """A list cell: a YAML list, or one string with `;` (CSV) or `,` between the words."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        sep = LIST_SEPARATOR if LIST_SEPARATOR in value else ","
        return [w for w in (part.strip() for part in value.split(sep)) if w]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    raise ValueError("must be a list of words")


def _vocabulary(value: Any, allowed: tuple[str, ...], aliases: dict[str, str], what: str,
                allow_all: bool = False) -> tuple[str, ...]:
    out: list[str] = []
    for raw in _words(value):
        word = normalise(raw)
        word = aliases.get(word, word)
        if allow_all and word == ALL:
            return (ALL,)
        if word in NOT_A_PRODUCT_CONCERN and what == "concern":
            raise ValueError(f"{raw!r}: {NOT_A_PRODUCT_CONCERN[word]}")
        if word not in allowed:
            choices = ", ".join((*allowed, ALL) if allow_all else allowed)
            raise ValueError(f"unknown {what} {raw!r} (one of: {choices})")
        if word not in out:
            out.append(word)
    return tuple(out)


class Product(BaseModel):
    """One product on the store's shelf."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="The store's own product id (SKU).")
    name: str = Field(min_length=1, max_length=80)
    brand: str = Field(min_length=1, max_length=60)
    price: float = Field(ge=0, le=MAX_PRICE, allow_inf_nan=False, description="In catalogue.currency.")
    image: str = Field(min_length=1, max_length=200, description="Image file, relative to the catalogue's folder.")
    concerns: tuple[str, ...] = Field(min_length=1, description="Concerns it addresses (vocabulary.CONCERNS).")
    skin_types: tuple[str, ...] = Field(min_length=1, description="Skin types it suits, or 'all'.")
    tones: tuple[str, ...] = Field((ALL,), min_length=1, description="Skin tones (ITA classes) it suits, or 'all'.")
    not_for: tuple[str, ...] = Field((), description="Contraindications (vocabulary.CONTRAINDICATIONS).")
    step: Literal["cleanse", "treat", "moisturise", "protect"] = Field(description="Its routine step.")
    description: str | None = Field(None, max_length=160, description="One short line for the card.")

    @field_validator("concerns", mode="before")
    @classmethod
    def _concerns(cls, v: Any) -> tuple[str, ...]:
        return _vocabulary(v, CONCERNS, CONCERN_ALIASES, "concern")

    @field_validator("skin_types", mode="before")
    @classmethod
    def _skin_types(cls, v: Any) -> tuple[str, ...]:
        return _vocabulary(v, SKIN_TYPES, {}, "skin type", allow_all=True)

    @field_validator("tones", mode="before")
    @classmethod
    def _tones(cls, v: Any) -> tuple[str, ...]:
        return _vocabulary(v if _words(v) else ALL, TONES, {}, "tone", allow_all=True)

    @field_validator("not_for", mode="before")
    @classmethod
    def _not_for(cls, v: Any) -> tuple[str, ...]:
        return _vocabulary(v, CONTRAINDICATIONS, CONTRAINDICATION_ALIASES, "contraindication")

    @field_validator("step", mode="before")
    @classmethod
    def _step(cls, v: Any) -> str:
        word = normalise(str(v)) if v is not None else ""
        word = STEP_ALIASES.get(word, word)
        if word not in STEPS:
            raise ValueError(f"unknown step {v!r} (one of: {', '.join(STEPS)})")
        return word

    @field_validator("price", mode="before")
    @classmethod
    def _price(cls, v: Any) -> Any:
        if isinstance(v, str):  # CSV cells; a decimal comma is what many spreadsheets write
            v = v.strip().replace(",", ".")
        return v

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, v: Any) -> Any:
        return None if v == "" else v

    @field_validator("image")
    @classmethod
    def _image(cls, v: str, info: ValidationInfo) -> str:
        folder = (info.context or {}).get("folder")
        if Path(v).suffix.lower() not in IMAGE_SUFFIXES:
            raise ValueError(f"{v!r}: an image must be one of {', '.join(IMAGE_SUFFIXES)}")
        if Path(v).is_absolute():
            raise ValueError(f"{v!r}: give the image relative to the catalogue's folder")
        if folder is not None:
            root = Path(folder).resolve()
            target = (root / v).resolve()
            if not target.is_relative_to(root):
                raise ValueError(f"{v!r}: the image must be inside the catalogue's folder")
            if not target.is_file():
                raise ValueError(f"{v!r}: image file not found in {root}")
        return v


@dataclass(frozen=True)
class Catalogue:
    products: tuple[Product, ...]
    folder: Path  # where the images are
    currency: str
    source: str  # file name it came from
    sha256: str  # of the file's bytes: the catalogue's version

    def image_path(self, product: Product) -> Path:
        return (self.folder / product.image).resolve()

    def by_id(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)


def format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".csv":
        return "csv"
    raise CatalogueError(str(path), [f"unknown catalogue format {suffix!r}: use .yaml, .yml or .csv"])


def _yaml_rows(text: str, source: str) -> list[tuple[str, Any]]:
    """(where, mapping) per product; `where` is 'product N (line L)'."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(source, [f"not valid YAML: {exc}"]) from None
    except RecursionError:  # e.g. [[[[...]]]]: the parser recurses once per level
        raise CatalogueError(source, ["not a catalogue: lists or mappings nested too deeply to read"]) from None
    if not isinstance(data, dict) or set(data) != {"products"} or not isinstance(data["products"], list):
        raise CatalogueError(source, ["the top level must be a mapping with one key, `products:`, holding a list"])
    lines: list[int | None] = [None] * len(data["products"])
    if root is not None:
        for key, value in root.value:
            if key.value == "products" and isinstance(value, yaml.SequenceNode):
                lines = [node.start_mark.line + 1 for node in value.value]
    return [(f"product {i + 1} (line {lines[i]})", item) for i, item in enumerate(data["products"])]


def _csv_rows(text: str, source: str) -> list[tuple[str, Any]]:
    reader = csv.reader(io.StringIO(text))
    try:
        return _csv_rows_of(reader, source)
    except csv.Error as exc:  # a cell over csv's field limit (128 kB), an unterminated quote at the end...
        raise CatalogueError(source, [f"row {reader.line_num}: not valid CSV: {exc}"]) from None


def _csv_rows_of(reader: Any, source: str) -> list[tuple[str, Any]]:
    try:
        header = [normalise(h) for h in next(reader)]
    except StopIteration:
        raise CatalogueError(source, ["empty CSV: the first row must name the columns"]) from None
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = [c for c in CSV_COLUMNS if c not in header and c not in ("tones", "not_for", "description")]
    if unknown or missing or len(set(header)) != len(header):
        problems = [f"row 1: unknown column {h!r} (columns: {', '.join(CSV_COLUMNS)})" for h in unknown]
        problems += [f"row 1: missing column {c!r}" for c in missing]
        if len(set(header)) != len(header):
            problems.append("row 1: a column is named twice")
        raise CatalogueError(source, problems)
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # blank spreadsheet rows
        if len(cells) > len(header):
            rows.append((f"row {number}", ValueError(f"{len(cells)} cells for {len(header)} columns")))
            continue
        item = {h: c for h, c in zip(header, cells, strict=False) if c.strip() != "" or h == "concerns"}
        rows.append((f"row {number}", item))
    return rows


def _field_of(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ())]
    return loc[0] if loc else "<product>"


def parse_catalogue(text: str, fmt: str, folder: Path, *, currency: str, source: str = "<upload>") -> Catalogue:
    """Validate a whole catalogue; raises CatalogueError naming every wrong product and field."""
    if fmt not in FORMATS:
        raise CatalogueError(source, [f"unknown catalogue format {fmt!r}: yaml or csv"])
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise CatalogueError(source, [f"file larger than {MAX_FILE_BYTES // 1024} kB"])
    rows = _yaml_rows(text, source) if fmt == "yaml" else _csv_rows(text, source)
    if not rows:
        raise CatalogueError(source, ["no products"])
    if len(rows) > MAX_PRODUCTS:
        raise CatalogueError(source, [f"{len(rows)} products: at most {MAX_PRODUCTS}"])
    problems: list[str] = []
    products: list[Product] = []
    first_row: dict[str, str] = {}
    for where, item in rows:
        if isinstance(item, Exception):
            problems.append(f"{where}: {item}")
            continue
        if not isinstance(item, dict):
            problems.append(f"{where}: a product must be a mapping of fields")
            continue
        label = f"{where}, id {item['id']!r}" if isinstance(item.get("id"), str | int) else where
        try:
            product = Product.model_validate(item, context={"folder": folder})
        except ValidationError as err:
            for e in err.errors():
                field = _field_of(e)
                msg = "unknown field" if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, ")
                problems.append(f"{label}, field {field}: {msg}")
            continue
        if product.id in first_row:
            problems.append(f"{label}, field id: duplicate id {product.id!r} (first at {first_row[product.id]})")
            continue
        first_row[product.id] = where
        products.append(product)
    if problems:
        raise CatalogueError(source, problems)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Catalogue(tuple(products), Path(folder).resolve(), currency, source, digest)


def load_catalogue(path: Path, *, currency: str) -> Catalogue:
    """Read and validate the catalogue file (CatalogueError if it is missing or wrong)."""
    path = Path(path)
    fmt = format_of(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CatalogueError(str(path), [f"file larger than {MAX_FILE_BYTES // 1024} kB"])
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets often write a BOM
    except OSError as exc:
        raise CatalogueError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise CatalogueError(str(path), ["not UTF-8 text"]) from None
    return parse_catalogue(text, fmt, path.parent, currency=currency, source=str(path))


def price_text(price: float, currency: str) -> str:
    """'14.90 EUR' (whole numbers keep their cents: shelf labels do)."""
    return f"{price:.2f} {currency}" if math.isfinite(price) else "-"
