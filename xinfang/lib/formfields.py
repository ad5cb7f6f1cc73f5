"""Form fields that choose rows by id and refuse an id no database column can hold.

Django's ModelChoiceField hands the typed value to the database; an integer past 64 bits makes
SQLite raise OverflowError (an HTTP 500) instead of "not one of the choices". These fields check
the value first and answer with the field's own Chinese message.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from xinfang.lib.bounds import ID_MAX as _MAX_ID


def fits_an_id(value: object) -> bool:
    """Whether `value` is a whole number a BIGINT id column can hold (a model instance passes)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= _MAX_ID
    if isinstance(value, str):
        text = value.strip()
        return text.isascii() and text.isdigit() and int(text) <= _MAX_ID
    return True  # a model instance or anything else Django itself resolves


class IdChoiceField(forms.ModelChoiceField):
    """ModelChoiceField that refuses an impossible id as an invalid choice."""

    def to_python(self, value):
        if value not in self.empty_values and not fits_an_id(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """ModelMultipleChoiceField that refuses an impossible id as an invalid choice."""

    def _check_values(self, value):
        for pk in value:
            if not fits_an_id(pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)
