"""The take-home report: one printable page with the face overlay, the concern scores, the change since
the last visit and the routine; as HTML (print CSS, A4, every image inline so it works offline and
on a phone) and as a PDF drawn by fpdf2 (pure Python: no browser on the device). Both render the same
`ReportData`; nothing here stores, sends or reads anything: the caller reads the page's template
(TEMPLATE_FILE) and hands its text to `compile_template`.
"""

from __future__ import annotations

import base64
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, Template

from edge.shop.catalogue import price_text
from edge.shop.change import Change
from edge.shop.concerns import ConcernScore, SkinProfile, shown
from edge.shop.matcher import Pick
from edge.shop.vocabulary import STEPS

TEMPLATE_FILE = Path(__file__).resolve().parent / "templates" / "report.html.j2"  # read by the caller
DISCLAIMER = "A cosmetic indication measured by this kiosk, not a medical diagnosis."
PRIVACY = ("Made on the shop's kiosk; no account, nothing sent to a cloud. This link works on the shop's "
           "network only and is erased when it expires or when you press \"Delete my data\".")
SENSITIVITY_WORDS = {"0": "tolerant", "1": "neutral", "2": "sensitive"}
STEP_WORDS = {"cleanse": "1 Cleanse", "treat": "2 Treat", "moisturise": "3 Moisturise", "protect": "4 Protect"}
MOLE_NOTE = "Moles are counted, not scored: no product addresses them; show a changing mole to a doctor."

# PDF layout (mm, A4 portrait)
PAGE_W, MARGIN = 210.0, 12.0
OVERLAY_W = 62.0
ROW_H = 5.6
PRODUCT_IMG = 13.0
MIN_FONT_PT = 6.0  # smallest text in a table cell before it is cut


@dataclass(frozen=True)
class RoutineItem:
    pick: Pick
    image: bytes | None  # the product picture (PNG/JPEG) inlined into the report
    image_type: str = "image/png"


@dataclass(frozen=True)
class ReportData:
    concerns: list[ConcernScore]
    profile: SkinProfile
    routine: list[RoutineItem]
    currency: str
    changes: list[Change] | None = None  # None: no diary profile open
    previous_visit_at: float | None = None
    overlay_jpeg: bytes | None = None  # the analysed face with its findings drawn
    created_at: float = field(default_factory=time.time)
    expires_at: float | None = None

    def change_of(self, concern: str) -> Change | None:
        return next((c for c in self.changes or [] if c.concern == concern), None)


def _when(unix_s: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(unix_s)) if unix_s else "-"


def _data_uri(data: bytes | None, mime: str) -> str | None:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}" if data else None


def profile_line(profile: SkinProfile) -> str:
    parts = []
    if profile.skin_type:
        parts.append(f"{profile.skin_type} skin")
    if profile.sensitivity:
        parts.append(f"{SENSITIVITY_WORDS[profile.sensitivity]} to redness")
    if profile.tone:
        parts.append(f"tone: {profile.tone.replace('_', ' ')}")
    if profile.moles_found is not None:
        parts.append(f"{profile.moles_found} mole{'s' if profile.moles_found != 1 else ''} counted")
    return " · ".join(parts) or "skin type not measured"


def _rows(data: ReportData) -> list[dict[str, Any]]:
    rows = []
    for c in data.concerns:
        change = data.change_of(c.name)
        rows.append({"concern": c.name, "label": c.label, "score": c.score, "where": c.where, "measure": c.measure,
                     "shown": shown(c.score) if c.score is not None else None,
                     "change": change.text if change is not None else None,
                     "verdict": change.verdict if change is not None else None})
    return rows


def _in_step_order(data: ReportData) -> list[RoutineItem]:
    return sorted(data.routine, key=lambda r: STEPS.index(r.pick.product.step))


def _routine(items: list[RoutineItem], currency: str) -> list[dict[str, Any]]:
    out = []
    for item in items:
        p = item.pick.product
        out.append({"step": STEP_WORDS[p.step], "name": p.name, "brand": p.brand, "id": p.id,
                    "price": price_text(p.price, currency), "reason": item.pick.reason,
                    "image": _data_uri(item.image, item.image_type)})
    return out


def compile_template(text: str) -> Template:
    """The report page's Jinja template from its text (HTML-escaped values)."""
    return Environment(autoescape=True).from_string(text)


def render_html(data: ReportData, template: Template, pdf_url: str | None = None) -> str:
    """The printable page (A4, one page), every image inline."""
    return template.render(
        rows=_rows(data), routine=_routine(_in_step_order(data), data.currency), profile=profile_line(data.profile),
        overlay=_data_uri(data.overlay_jpeg, "image/jpeg"), has_changes=data.changes is not None,
        previous=_when(data.previous_visit_at) if data.previous_visit_at else None,
        created=_when(data.created_at), expires=_when(data.expires_at), pdf_url=pdf_url,
        disclaimer=DISCLAIMER, privacy=PRIVACY, mole_note=MOLE_NOTE)


# --- PDF -------------------------------------------------------------------------------------------------

_PDF_SYMBOLS = {"→": "->", "±": "+/-", "·": "-", "–": "-", "—": "-", "’": "'", "“": '"', "”": '"', "°": " deg"}


def pdf_text(text: str) -> str:
    """Text for the PDF's built-in Helvetica (Latin-1): known symbols spelled out, others as '?'."""
    for symbol, plain in _PDF_SYMBOLS.items():
        text = text.replace(symbol, plain)
    return text.encode("latin-1", "replace").decode("latin-1")


def _fitted_cell(pdf: Any, width: float, height: float, text: str, **kwargs: Any) -> None:
    """A table cell whose text never runs into the next one: a smaller font (down to MIN_FONT_PT), then
    cut with '...'."""
    size = pdf.font_size_pt
    while pdf.get_string_width(text) > width - 2 and pdf.font_size_pt > MIN_FONT_PT:
        pdf.set_font_size(pdf.font_size_pt - 0.5)
    while pdf.get_string_width(text) > width - 2 and len(text) > 4:
        text = text[:-4].rstrip() + "..."
    pdf.cell(width, height, text, **kwargs)
    pdf.set_font_size(size)


def render_pdf(data: ReportData) -> bytes:
    """The same page as a one-page A4 PDF."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_creator("skin-kiosk")
    pdf.set_title("Your skin report")
    pdf.add_page()
    width = PAGE_W - 2 * MARGIN

    pdf.set_font("Helvetica", "B", 17)
    pdf.cell(width, 9, "Your skin report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8.5)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(width, 4.5, pdf_text(f"Measured {_when(data.created_at)} · {profile_line(data.profile)}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    top = pdf.get_y() + 2

    if data.overlay_jpeg:
        pdf.image(io.BytesIO(data.overlay_jpeg), x=MARGIN, y=top, w=OVERLAY_W)
    table_x = MARGIN + (OVERLAY_W + 5 if data.overlay_jpeg else 0)
    table_w = PAGE_W - MARGIN - table_x
    cols = (34.0, 12.0, table_w - 46.0) if data.changes is None else (30.0, 11.0, 34.0, table_w - 75.0)
    pdf.set_xy(table_x, top)
    pdf.set_font("Helvetica", "B", 8.5)
    heads = ("Concern", "0-100", "Where / measured") if data.changes is None else (
        "Concern", "0-100", "Where", "Since last visit")
    for w, h in zip(cols, heads, strict=True):
        pdf.cell(w, ROW_H, h, border="B")
    pdf.ln(ROW_H)
    pdf.set_font("Helvetica", "", 8)
    for row in _rows(data):
        pdf.set_x(table_x)
        score = "-" if row["score"] is None else shown(row["score"])
        where = row["where"] or ("" if row["score"] is not None else "not measured")
        cells = [row["label"], score, where or row["measure"]] if data.changes is None else [
            row["label"], score, where, row["change"] or ""]
        for w, text in zip(cols, cells, strict=True):
            _fitted_cell(pdf, w, ROW_H, pdf_text(text), border="B")
        pdf.ln(ROW_H)
    y = max(pdf.get_y(), top + (OVERLAY_W * 1.0 if data.overlay_jpeg else 0)) + 5
    if data.previous_visit_at:
        pdf.set_xy(table_x, pdf.get_y() + 1)
        pdf.set_font("Helvetica", "I", 7.5)
        pdf.cell(table_w, 4, pdf_text(f"Compared with your visit of {_when(data.previous_visit_at)}; "
                                      "changes within a measure's repeatability read \"no real change\"."))

    pdf.set_xy(MARGIN, y)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(width, 7, "Your routine", new_x="LMARGIN", new_y="NEXT")
    in_order = _in_step_order(data)
    items = _routine(in_order, data.currency)
    if not items:
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(width, 6, "No product of this shop fits your measurements.", new_x="LMARGIN", new_y="NEXT")
    for item, routine_item in zip(items, in_order, strict=True):
        row_top = pdf.get_y() + 1
        if routine_item.image and routine_item.image_type in ("image/png", "image/jpeg"):
            pdf.image(io.BytesIO(routine_item.image), x=MARGIN, y=row_top, w=PRODUCT_IMG, h=PRODUCT_IMG)
        pdf.set_xy(MARGIN + PRODUCT_IMG + 3, row_top)
        pdf.set_font("Helvetica", "B", 9.5)
        _fitted_cell(pdf, width - PRODUCT_IMG - 33, 5, pdf_text(f"{item['step']}: {item['name']}"))
        pdf.cell(30, 5, pdf_text(item["price"]), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(MARGIN + PRODUCT_IMG + 3)
        pdf.set_font("Helvetica", "", 8)
        pdf.cell(width - PRODUCT_IMG - 3, 4, pdf_text(f"{item['brand']} · {item['id']}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(MARGIN + PRODUCT_IMG + 3)
        pdf.set_font("Helvetica", "I", 8)
        _fitted_cell(pdf, width - PRODUCT_IMG - 3, 4, pdf_text(item["reason"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(row_top + PRODUCT_IMG + 1.5)

    pdf.set_y(-28)
    pdf.set_font("Helvetica", "", 7.5)
    pdf.set_text_color(90, 90, 90)
    for line in (MOLE_NOTE, DISCLAIMER, PRIVACY, f"Link valid until {_when(data.expires_at)}."):
        pdf.multi_cell(width, 3.6, pdf_text(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
