"""The people register (人员信息): residents who are parties, petitioners, volunteers.

Names, ID numbers, phones and addresses are encrypted at rest (DOMAIN §11); ID number and
phone also carry a keyed blind index so an exact search never decrypts the table.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from pingan.core.crypto import EncryptedTextField
from pingan.core.models import TimeStampedModel
from pingan.core.scoping import ScopedQuerySet
from pingan.people.choices import Sex


class Person(TimeStampedModel):
    """A resident known to the platform (当事人/信访人/志愿者)."""

    name = EncryptedTextField(_("姓名"))
    id_number = EncryptedTextField(_("公民身份号码"), blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone = EncryptedTextField(_("联系电话"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    address = EncryptedTextField(_("住址"), blank=True)
    # Derived from the ID number (GB 11643); kept in clear for statistics by sex and age.
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("出生年份"), null=True, blank=True)
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="people"
    )
    area_code = models.CharField(_("区划代码"), max_length=24, db_index=True, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_code_field = "area_code"

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["-id"]
        permissions = [("reveal_person", _("查看完整个人信息"))]
        constraints = [
            # One register entry per resident ID number, even under concurrent creates.
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=~models.Q(id_number_index=""),
                name="person_unique_id_number",
            )
        ]

    def __str__(self) -> str:
        return self.audit_label()

    def audit_label(self) -> str:
        """A label with no personal data, safe for logs and the audit trail."""
        return f"Person #{self.pk}"
