"""The mediation agreement as a Word document (人民调解协议书, 人民调解法 §28–33).

The usual form of the document: title and number, the mediation organisation, the parties
(applicants, then respondents, each with name, sex, birth year, ID number, address and
phone), the main facts and disputed matters, the agreed terms, how and by when they are
performed, the effect of the agreement (§31) and the 30-day window for judicial confirmation
(§33), signature lines for every party and the mediator, and the committee's seal place
and date. Layout after GB/T 9704 (A4, 仿宋 body, 宋体 title).

The document carries full personal data: ``download_agreement`` gives it only to users with
查看完整个人信息 (people.reveal_person) and audits the download per party.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from pingan.core import audit
from pingan.core.choices import AuditAction
from pingan.core.pii import format_phone
from pingan.disputes.models import Agreement, DisputeParty
from pingan.people.services import PII_FIELDS, can_reveal

TITLE_FONT = "宋体"
BODY_FONT = "仿宋"
LATIN_FONT = "Times New Roman"
TITLE_SIZE = Pt(22)  # 二号
BODY_SIZE = Pt(15)  # between 三号 and 小三: long terms still fit
LINE_SPACING = Pt(28)
BLANK = "＿" * 8  # a line to sign on


def chinese_date(day: date) -> str:
    """2026-09-08 → "2026年9月8日" (the way dates are written in documents)."""
    return f"{day.year}年{day.month}月{day.day}日"


# ---------------------------------------------------------------------------------------------
# Layout helpers


def _set_fonts(element: Any, east_asian: str, size: Pt | None = None, bold: bool | None = None) -> None:
    """Set latin and east-asian fonts of a style or run (python-docx sets only the latin one)."""
    font = element.font
    font.name = LATIN_FONT
    if size is not None:
        font.size = size
    if bold is not None:
        font.bold = bold
    rpr = element.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)


def _page_setup(document: Any) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = document.styles["Normal"]
    _set_fonts(normal, BODY_FONT, BODY_SIZE)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE_SPACING
    fmt.space_before = fmt.space_after = Pt(0)
    _page_number_footer(section)


def _page_number_footer(section: Any) -> None:
    """A centred "— n —" page number in the footer."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("— ")
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind is not None:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = str(text)
            run._r.append(instr)
    paragraph.add_run(" —")


def _paragraph(
    document: Any,
    text: str = "",
    *,
    label: str = "",
    indent: bool = True,
    align: Any = None,
    bold: bool = False,
) -> Paragraph:
    """A body paragraph: an optional bold label, then the text; first line indented two characters."""
    paragraph = document.add_paragraph()
    if indent:
        paragraph.paragraph_format.first_line_indent = BODY_SIZE * 2
    if align is not None:
        paragraph.alignment = align
    if label:
        run = paragraph.add_run(label)
        run.bold = True
    if text:
        run = paragraph.add_run(text)
        run.bold = bold
    return paragraph


def _lines(document: Any, text: str) -> None:
    """Each line of a multi-line field as its own indented paragraph."""
    for line in (text or "").splitlines():
        if line.strip():
            _paragraph(document, line.strip())


def _borderless(table: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


# ---------------------------------------------------------------------------------------------
# Content


def _parties(agreement: Agreement) -> list[DisputeParty]:
    return list(
        DisputeParty.objects.filter(dispute_id=agreement.dispute_id)
        .select_related("person")
        .order_by("role", "order", "id")
    )


def _organisation(agreement: Agreement) -> str:
    unit = agreement.dispute.case.unit
    if unit is None:
        return _("人民调解委员会")
    org = getattr(unit, "mediation_org", None)
    if org is not None and org.brand and org.brand not in unit.name:
        return f"{unit.name}（{org.brand}）"
    return unit.name


def party_line(party: DisputeParty) -> str:
    """ "张三，男，1990年出生，公民身份号码：…，住址：…，联系电话：…" (full values: the document is the record)."""
    person = party.person
    parts = [person.name]
    if person.sex:
        parts.append(person.get_sex_display())
    if person.birth_year:
        parts.append(_("%(year)s年出生") % {"year": person.birth_year})
    if person.id_number:
        parts.append(_("公民身份号码：%(n)s") % {"n": person.id_number})
    if person.address:
        parts.append(_("住址：%(a)s") % {"a": person.address})
    if person.phone:
        parts.append(_("联系电话：%(p)s") % {"p": format_phone(person.phone)})
    return "，".join(parts) + "。"


def _party_section(document: Any, parties: list[DisputeParty]) -> None:
    for party in parties:
        _paragraph(document, party_line(party), label=f"{party.get_role_display()}：")


def _effect_section(document: Any, agreement: Agreement, copies: int) -> None:
    _paragraph(
        document,
        _(
            "本协议自各方当事人签名（盖章或按指印）、人民调解员签名并加盖人民调解委员会印章之日起生效。"
            "经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行"
            "（《中华人民共和国人民调解法》第三十一条）。"
        ),
    )
    confirmation = getattr(agreement, "confirmation", None)
    window = (
        _("（即%(day)s前）") % {"day": chinese_date(confirmation.apply_by)}
        if confirmation is not None
        else ""
    )
    _paragraph(
        document,
        _(
            "双方当事人认为有必要的，可以自本协议生效之日起三十日内%(window)s共同向人民法院申请司法确认"
            "（《中华人民共和国人民调解法》第三十三条）。"
        )
        % {"window": window},
    )
    _paragraph(
        document,
        _("本协议一式%(n)s份，当事人各执一份，人民调解委员会留存一份。") % {"n": copies},
    )


def _signature_section(
    document: Any, parties: list[DisputeParty], mediator: str, org: str, signed_on: date
) -> None:
    document.add_paragraph()
    rows = [(f"{p.get_role_display()}（签名或按指印）：", p.person.name) for p in parties]
    rows.append((_("人民调解员（签名）："), mediator))
    table = document.add_table(rows=len(rows), cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _borderless(table)
    for row, (label, name) in zip(table.rows, rows, strict=True):
        row.cells[0].width, row.cells[1].width = Cm(8.0), Cm(7.6)
        row.cells[0].paragraphs[0].add_run(label)
        row.cells[1].paragraphs[0].add_run(f"{name}  {BLANK}")
    document.add_paragraph()
    for text in (_("（人民调解委员会印）"), org, chinese_date(signed_on)):
        _paragraph(document, text, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)


def agreement_docx(agreement: Agreement) -> bytes:
    """The agreement as a .docx file (bytes). Carries full personal data: see download_agreement."""
    agreement = Agreement.objects.select_related(
        "dispute",
        "dispute__case",
        "dispute__case__unit",
        "dispute__case__unit__mediation_org",
        "dispute__mediator",
    ).get(pk=agreement.pk)
    parties = _parties(agreement)
    org = _organisation(agreement)
    mediator = agreement.dispute.mediator.display_name if agreement.dispute.mediator else ""

    document = Document()
    _page_setup(document)
    document.core_properties.title = _("人民调解协议书 %(number)s") % {"number": agreement.number}
    document.core_properties.author = org
    document.core_properties.comments = ""

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(12)
    title.paragraph_format.line_spacing = Pt(40)
    _set_fonts(title.add_run(_("人民调解协议书")), TITLE_FONT, TITLE_SIZE, bold=True)
    _paragraph(
        document, _("编号：%(n)s") % {"n": agreement.number}, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT
    )
    _paragraph(document, org, label=_("调解组织："), indent=False)

    _party_section(document, parties)
    _paragraph(document, label=_("纠纷主要事实、争议事项："))
    _lines(document, agreement.facts)
    _paragraph(document, label=_("经调解，双方当事人自愿达成如下协议："))
    _lines(document, agreement.terms)
    _paragraph(document, label=_("履行方式、时限："))
    _lines(document, agreement.performance)
    _paragraph(document, _("以上协议内容于%(day)s前履行完毕。") % {"day": chinese_date(agreement.perform_by)})
    _effect_section(document, agreement, copies=len(parties) + 1)
    _signature_section(document, parties, mediator, org, agreement.signed_on)

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def download_agreement(actor: Any, agreement: Agreement) -> bytes:
    """The document for a user allowed to see full personal data; each party's reveal is audited.

    The caller has already checked that the dispute lies in the actor's scope (404 otherwise).
    """
    if not can_reveal(actor):
        raise PermissionDenied(_("调解协议书含完整个人信息，需「查看完整个人信息」权限"))
    content = agreement_docx(agreement)
    with transaction.atomic():
        for party in DisputeParty.objects.filter(dispute_id=agreement.dispute_id).select_related("person"):
            audit.record(
                AuditAction.REVEAL,
                actor=actor,
                target=party.person,
                detail={
                    "fields": list(PII_FIELDS),
                    "document": "agreement_docx",
                    "agreement": agreement.number,
                },
            )
    return content


def filename(agreement: Agreement) -> str:
    return f"人民调解协议书-{agreement.number}.docx"
