"""The agreement document (人民调解协议书): re-opened with python-docx it shows the parties and terms;
downloaded only with 查看完整个人信息, audited, and 404 outside the scope."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.contrib.auth.models import Permission
from docx import Document
from docx.oxml.ns import qn

from pingan.accounts.choices import Role
from pingan.core.choices import AuditAction
from pingan.core.models import AuditEntry
from pingan.disputes.choices import PartyRole
from pingan.disputes.documents import agreement_docx, chinese_date
from pingan.disputes.models import Agreement
from tests.conftest import login, make_user
from tests.disputes.test_confirmation import make_agreed

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
THREE_PARTIES = (
    (PartyRole.APPLICANT, "张三", "13800000001", "柯城区府山街道府山社区1幢101室"),
    (PartyRole.APPLICANT, "王五", "13800000003", "柯城区府山街道府山社区1幢102室"),
    (PartyRole.RESPONDENT, "李四", "13800000002", "柯城区府山街道府山社区1幢201室"),
)


@pytest.fixture
def agreement(tree, personas, orgs, mediators) -> Agreement:
    return make_agreed(
        tree, personas, orgs.wangning, mediators.wangning, signed_on=date(2026, 9, 8), parties=THREE_PARTIES
    )


def text_of(content: bytes) -> str:
    """Every paragraph of the body and of its tables, one per line."""
    document = Document(io.BytesIO(content))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines += [cell.text for cell in row.cells]
    return "\n".join(lines)


@pytest.mark.django_db
def test_document_shows_parties_terms_and_the_confirmation_window(agreement):
    content = agreement_docx(agreement)
    text = text_of(content)
    assert text.splitlines()[0] == "人民调解协议书"
    assert f"编号：{agreement.number}" in text
    # The brand is part of the organisation's name here, so it is not repeated.
    assert "调解组织：王宁调解工作室" in text.splitlines()
    people = {p.person.name: p.person for p in agreement.dispute.parties.select_related("person")}
    zhang = people["张三"]
    # Full values: name, sex and birth year from the ID number, ID number, address, phone.
    line = next(x for x in text.splitlines() if x.startswith("申请人：张三"))
    assert zhang.get_sex_display() in line and f"{zhang.birth_year}年出生" in line
    assert f"公民身份号码：{zhang.id_number}" in line
    assert "住址：柯城区府山街道府山社区1幢101室" in line and "联系电话：138" in line and "0001" in line
    assert any(x.startswith("申请人：王五") for x in text.splitlines())
    assert any(x.startswith("被申请人：李四") for x in text.splitlines())
    # Facts, every line of the terms, performance and its deadline.
    assert "楼上卫生间漏水致楼下天花板受损" in text
    assert "一、李四于2026年10月31日前赔偿张三维修费人民币3000元。" in text
    assert "二、李四负责修复卫生间防水层。" in text
    assert "李四以银行转账方式一次性支付至张三账户。" in text
    assert "以上协议内容于2026年10月31日前履行完毕。" in text
    # Effect (§31) and judicial confirmation within 30 days (§33), with the window's last day.
    assert "具有法律约束力" in text and "第三十一条" in text
    assert "三十日内（即2026年10月8日前）共同向人民法院申请司法确认" in text and "第三十三条" in text
    assert "本协议一式4份" in text
    # Signature lines for each party and the mediator, the seal place and the date.
    for name in ("张三", "王五", "李四"):
        assert f"{name}  ＿" in text
    assert "申请人（签名或按指印）：" in text and "被申请人（签名或按指印）：" in text
    assert "人民调解员（签名）：" in text and "王宁  ＿" in text
    assert "（人民调解委员会印）" in text
    document = Document(io.BytesIO(content))
    assert [p.text for p in document.paragraphs[-3:]] == [
        "（人民调解委员会印）",
        "王宁调解工作室",
        "2026年9月8日",
    ]


@pytest.mark.django_db
def test_document_sets_chinese_fonts_and_a4(agreement):
    document = Document(io.BytesIO(agreement_docx(agreement)))
    normal = document.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert normal.get(qn("w:eastAsia")) == "仿宋"
    title_run = document.paragraphs[0].runs[0]
    assert title_run.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "宋体"
    assert title_run.bold
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)


def test_chinese_date():
    assert chinese_date(date(2026, 10, 8)) == "2026年10月8日"


def reveal_user(username: str, scope, unit=None):
    user = make_user(username, Role.DISPATCHER, scope, unit)
    user.user_permissions.add(Permission.objects.get(codename="reveal_person"))
    return user


@pytest.mark.django_db
def test_download_for_a_user_who_may_reveal_is_audited_per_party(agreement, tree):
    user = reveal_user("kc_reveal", tree.kecheng)
    response = login(user).get(f"/api/confirmations/agreements/{agreement.dispute_id}.docx")
    assert response.status_code == 200
    assert response["Content-Type"] == DOCX
    assert "attachment" in response["Content-Disposition"] and ".docx" in response["Content-Disposition"]
    assert "张三" in text_of(response.content) and "一、李四于2026年10月31日前" in text_of(response.content)
    entries = AuditEntry.objects.filter(actor=user, action=AuditAction.REVEAL)
    party_people = sorted(str(p.person_id) for p in agreement.dispute.parties.all())
    assert sorted(entries.values_list("target_id", flat=True)) == party_people
    entry = entries.first()
    assert entry.detail["document"] == "agreement_docx" and entry.detail["agreement"] == agreement.number
    # The audit trail names records and fields, never the values.
    assert "张三" not in str(entry.detail) and "张三" not in entry.target_label


@pytest.mark.django_db
def test_download_without_the_reveal_permission_is_403_and_not_audited(agreement, personas):
    response = login(personas.kecheng_dispatcher).get(
        f"/api/confirmations/agreements/{agreement.dispute_id}.docx"
    )
    assert response.status_code == 403
    assert "张三" not in response.content.decode()
    assert not AuditEntry.objects.filter(
        actor=personas.kecheng_dispatcher, action=AuditAction.REVEAL
    ).exists()


@pytest.mark.django_db
def test_download_outside_the_scope_is_404_even_with_the_permission(agreement, tree):
    user = reveal_user("js_reveal", tree.jiangshan)
    response = login(user).get(f"/api/confirmations/agreements/{agreement.dispute_id}.docx")
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(actor=user, action=AuditAction.REVEAL).exists()


@pytest.mark.django_db
def test_download_of_a_dispute_without_agreement_is_404(agreement, tree):
    user = reveal_user("kc_reveal", tree.kecheng)
    missing = agreement.dispute_id
    agreement.delete()
    assert login(user).get(f"/api/confirmations/agreements/{missing}.docx").status_code == 404


@pytest.mark.django_db
def test_anonymous_download_is_401(agreement):
    assert login(None).get(f"/api/confirmations/agreements/{agreement.dispute_id}.docx").status_code == 401
