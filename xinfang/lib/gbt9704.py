"""The national layout of official documents (GB/T 9704-2012) for python-docx: page, fonts, line
grid, page numbers, signature. Framework-free: the notices (xinfang/cases/notices.py) and the
reports (analysis, outcome) build their .docx with these helpers, so there is one layout.

A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; 22 lines of 28 characters (fixed
line pitch, condensed characters); body 3号仿宋; title 2号小标宋, centred; headings of the first
level 3号黑体 ("一、"), of the second 3号楷体 ("（一）"); page numbers "— 1 —" in 4号 half-width
宋体 at the outside edge, 7 mm below the type area.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from lxml import etree

PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM = Mm(37), Mm(35)
MARGIN_LEFT, MARGIN_RIGHT = Mm(28), Mm(26)
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
BODY_SIZE = Pt(16)  # 三号
TITLE_SIZE = Pt(22)  # 二号
PAGE_NUMBER_SIZE = Pt(14)  # 四号
TABLE_SIZE = Pt(12)  # 小四: a table's figures, so that eight columns fit the 156 mm line
# 225 mm of type area / 22 lines = 28.95 pt (579 twips) per line.
LINE_PITCH_TWIPS = 579
LINE_PITCH = Pt(LINE_PITCH_TWIPS / 20)
TABLE_PITCH = Pt(18)
# The page number's dash sits 7 mm below the type area.
FOOTER_DISTANCE = Mm(25)
HEADER_DISTANCE = Mm(15)

BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"  # 一、
SUBHEADING_FONT = "楷体_GB2312"  # （一）
NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"
# Word uses altName when the named font is missing: FangSong_GB2312 is not on every PC.
FONT_FALLBACKS = {
    "仿宋_GB2312": "仿宋",
    "方正小标宋简体": "宋体",
    "宋体": "SimSun",
    "楷体_GB2312": "楷体",
    "黑体": "SimHei",
}


def width_in_chars(text: str) -> float:
    """Full-width characters count 1, half-width (digits, Latin) count 1/2."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1 for ch in text)


# Schema order: what may follow <w:szCs> in <w:rPr>, and <w:snapToGrid> in <w:pPr>.
_AFTER_SZCS = (
    "w:highlight",
    "w:u",
    "w:effect",
    "w:bdr",
    "w:shd",
    "w:fitText",
    "w:vertAlign",
    "w:rtl",
    "w:cs",
    "w:em",
    "w:lang",
    "w:eastAsianLayout",
    "w:specVanish",
    "w:oMath",
)
_AFTER_SNAP = (
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def drop_theme_fonts(fonts) -> None:
    """Theme font attributes override explicit ones: remove them."""
    for attr in list(fonts.attrib):
        if attr.lower().endswith("theme"):
            del fonts.attrib[attr]


def set_fonts(rpr, east_asia: str, latin: str, size: Pt) -> None:
    """Set the fonts (East-Asian via w:eastAsia) and size of a <w:rPr> explicitly."""
    fonts = rpr.get_or_add_rFonts()
    drop_theme_fonts(fonts)
    for attr, value in (
        ("w:ascii", latin),
        ("w:hAnsi", latin),
        ("w:cs", latin),
        ("w:eastAsia", east_asia),
        ("w:hint", "eastAsia"),
    ):
        fonts.set(qn(attr), value)
    rpr.sz_val = size
    size_cs = rpr.find(qn("w:szCs"))
    if size_cs is None:
        size_cs = OxmlElement("w:szCs")
        rpr.insert_element_before(size_cs, *_AFTER_SZCS)
    size_cs.set(qn("w:val"), str(int(size.pt * 2)))


def char_indent(
    paragraph, *, first_line: float = 0, left: float = 0, right: float = 0, size: Pt = BODY_SIZE
) -> None:
    """Indents in characters (Word's firstLineChars etc.), with the twips equivalent."""
    fmt = paragraph.paragraph_format
    fmt.first_line_indent = Pt(size.pt * first_line) if first_line else None
    fmt.left_indent = Pt(size.pt * left) if left else None
    fmt.right_indent = Pt(size.pt * right) if right else None
    ind = paragraph._p.get_or_add_pPr().find(qn("w:ind"))
    if ind is None:
        return
    for attr, value in (
        ("w:firstLineChars", first_line),
        ("w:leftChars", left),
        ("w:rightChars", right),
    ):
        if value:
            ind.set(qn(attr), str(round(value * 100)))


def exact_lines(paragraph, pitch: Pt = LINE_PITCH) -> None:
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = pitch
    fmt.widow_control = False


def no_grid(paragraph) -> None:
    """Keep a paragraph (title, page number) off the character grid so its glyphs are not spread."""
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    paragraph._p.get_or_add_pPr().insert_element_before(snap, *_AFTER_SNAP)
    for run in paragraph.runs:
        run._r.get_or_add_rPr().get_or_add_snapToGrid().set(qn("w:val"), "0")


def add(
    doc_or_part,
    text: str,
    *,
    font: str = BODY_FONT,
    size: Pt = BODY_SIZE,
    align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    first_line: float = 0,
    right: float = 0,
):
    paragraph = doc_or_part.add_paragraph()
    exact_lines(paragraph)
    paragraph.alignment = align
    char_indent(paragraph, first_line=first_line, right=right)
    if text:
        set_fonts(paragraph.add_run(text)._r.get_or_add_rPr(), font, LATIN_FONT, size)
    return paragraph


def field_char(run, kind: str) -> None:
    fld = OxmlElement("w:fldChar")
    fld.set(qn("w:fldCharType"), kind)
    run._r.append(fld)


def page_number(footer, *, odd: bool) -> None:
    """Page number "— 1 —" in 4号 half-width 宋体: odd pages right, even pages left, one char in."""
    paragraph = footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    exact_lines(paragraph, Pt(18))
    if odd:
        char_indent(paragraph, right=1, size=PAGE_NUMBER_SIZE)
    else:
        char_indent(paragraph, left=1, size=PAGE_NUMBER_SIZE)

    def run(text: str = ""):
        r = paragraph.add_run(text)
        set_fonts(r._r.get_or_add_rPr(), NUMBER_FONT, NUMBER_FONT, PAGE_NUMBER_SIZE)
        return r

    run("— ")
    field_char(run(), "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    run()._r.append(instr)
    field_char(run(), "separate")
    run("1")
    field_char(run(), "end")
    run(" —")
    no_grid(paragraph)


# 28 characters of 16 pt on the 156 mm (442.2 pt) line: each character condensed by 0.25 pt
# (28 × 15.75 pt = 441 pt), in twentieths of a point.
CHAR_SPACING_TWENTIETHS = -5


def setup_page(doc) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    section.header_distance, section.footer_distance = HEADER_DISTANCE, FOOTER_DISTANCE
    section.gutter = Mm(0)
    # A line grid of 22 lines of 28.95 pt. The 28 characters a line come from condensing each
    # character (see CHAR_SPACING_TWENTIETHS), not from a character grid: LibreOffice lays a
    # Word "linesAndChars" grid out at about half the characters, so the same file would print
    # differently there.
    sect = section._sectPr
    grid = sect.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))
    grid.attrib.pop(qn("w:charSpace"), None)
    doc.settings.odd_and_even_pages_header_footer = True
    page_number(section.footer, odd=True)
    page_number(section.even_page_footer, odd=False)


def setup_styles(doc, *, body_font: str = BODY_FONT) -> None:
    """Body defaults: 3号仿宋, Chinese language, no theme fonts, no extra paragraph spacing."""
    styles = doc.styles.element
    for fonts in styles.iter(qn("w:rFonts")):
        drop_theme_fonts(fonts)
    rpr_default = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(rpr_default, body_font, LATIN_FONT, BODY_SIZE)
    condense = OxmlElement("w:spacing")
    condense.set(qn("w:val"), str(CHAR_SPACING_TWENTIETHS))
    rpr_default.find(qn("w:sz")).addprevious(condense)
    lang = rpr_default.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")
    ppr_default = styles.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    for child in list(ppr_default):
        ppr_default.remove(child)
    for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):
        el = OxmlElement(tag)
        el.set(qn("w:val"), "0")
        ppr_default.append(el)
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:line"), str(LINE_PITCH_TWIPS))
    spacing.set(qn("w:lineRule"), "exact")
    ppr_default.append(spacing)
    normal = doc.styles["Normal"]
    set_fonts(normal.element.get_or_add_rPr(), body_font, LATIN_FONT, BODY_SIZE)


def setup_package(doc, *, title: str, subject: str, author: str, date: dt.date) -> None:
    """Document properties, font fallbacks, and no stray thumbnail from the blank template."""
    props = doc.core_properties
    props.title = title
    props.subject = subject
    props.author = props.last_modified_by = author
    props.comments = props.keywords = props.category = ""
    moment = dt.datetime.combine(date, dt.time(12), tzinfo=dt.UTC)
    props.created = props.modified = moment
    props.revision = 1
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package.rels[rid]
    for part in package.iter_parts():
        if str(part.partname) == "/word/fontTable.xml":
            part._blob = font_table(part.blob)


def font_table(blob: bytes) -> bytes:
    root = etree.fromstring(blob)
    present = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
    for name, alt in FONT_FALLBACKS.items():
        if name in present:
            continue
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        for tag, value in (
            ("w:altName", alt),
            ("w:charset", "86"),
            ("w:family", "modern"),
            ("w:pitch", "fixed"),
        ):
            etree.SubElement(font, qn(tag)).set(qn("w:val"), value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def signature(doc, issuer: str, date_text: str, *, font: str = BODY_FONT) -> None:
    """发文机关署名 centred over the date; the date 4 characters in from the right (加盖印章时)."""
    name_w, date_w = width_in_chars(issuer), width_in_chars(date_text)
    date_right = 4.0
    name_right = date_right + (date_w - name_w) / 2
    if name_right < 2:
        date_right += 2 - name_right
        name_right = 2.0
    add(doc, issuer, font=font, align=WD_ALIGN_PARAGRAPH.RIGHT, right=name_right)
    add(doc, date_text, font=font, align=WD_ALIGN_PARAGRAPH.RIGHT, right=date_right)


# ---------------------------------------------------------------- a whole document


def new_document(*, body_font: str = BODY_FONT):
    """A blank document in the layout: styles, page, page numbers, no empty first paragraph."""
    doc = Document()
    setup_styles(doc, body_font=body_font)
    setup_page(doc)
    first = doc.paragraphs[0]._p if doc.paragraphs else None
    if first is not None:  # the blank template's empty first paragraph
        first.getparent().remove(first)
    return doc


def title(doc, text: str, *, font: str = TITLE_FONT):
    """The document's title: 2号小标宋, centred, off the character grid."""
    paragraph = add(doc, text, font=font, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER)
    no_grid(paragraph)
    return paragraph


def heading(doc, text: str, *, level: int = 1):
    """A heading of the body: "一、" in 黑体, "（一）" in 楷体, both 3号, indented two characters."""
    return add(doc, text, font=HEADING_FONT if level == 1 else SUBHEADING_FONT, first_line=2)


def table(doc, header: Sequence[str], rows: Sequence[Sequence], *, font: str = BODY_FONT):
    """A plain table of figures in 小四 with a bold header row; numbers right-aligned."""
    grid = doc.add_table(rows=1, cols=len(header))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER

    def fill(cell, value, *, bold: bool = False) -> None:
        paragraph = cell.paragraphs[0]
        exact_lines(paragraph, TABLE_PITCH)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if number else WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run("" if value is None else str(value))
        run.bold = bold
        set_fonts(run._r.get_or_add_rPr(), font, LATIN_FONT, TABLE_SIZE)

    for cell, value in zip(grid.rows[0].cells, header, strict=True):
        fill(cell, value, bold=True)
    for row in rows:
        for cell, value in zip(grid.add_row().cells, row, strict=True):
            fill(cell, value)
    return grid


def to_bytes(doc, *, title: str, subject: str, author: str, date: dt.date) -> bytes:
    setup_package(doc, title=title, subject=subject, author=author, date=date)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
