# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""One check of the inputs at every door: what the business methods and the
HTTP routes receive is checked for its type, range and size before any work,
and refused with a translated error naming the field (InputError, a user
error: a 4xx in JSON on HTTP routes)"""
import math
from decimal import Decimal, InvalidOperation

from trytond.i18n import gettext

from .exceptions import InputError

MAX_TEXT = 200
MAX_QUANTITY = 1_000_000
MAX_AMOUNT = Decimal(10_000_000)
MAX_ITEMS = 200
MAX_ID = 2 ** 31 - 1


def text(value, field, size=MAX_TEXT, required=True):
    """Return value as stripped text of at most size characters; None for
    an empty value that is not required"""
    if isinstance(value, bool) or not isinstance(
            value, (str, int, type(None))):
        raise InputError(gettext('omni_retail.msg_input_text', field=field))
    value = '' if value is None else str(value).strip()
    if not value:
        if required:
            raise InputError(gettext(
                    'omni_retail.msg_input_required', field=field))
        return None
    if len(value) > size:
        raise InputError(gettext(
                'omni_retail.msg_input_size', field=field, size=size))
    return value


def record_id(value, field):
    "Return value as the id of a record"
    try:
        if isinstance(value, (bool, float)):
            raise ValueError
        id_ = int(value)
    except (TypeError, ValueError):
        id_ = 0
    if not 0 < id_ <= MAX_ID:
        raise InputError(gettext(
                'omni_retail.msg_input_id', field=field, value=value))
    return id_


def quantity(value, field, maximum=MAX_QUANTITY):
    "Return value as a quantity above zero and below maximum"
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not (0 < number < maximum):
        raise InputError(gettext('omni_retail.msg_input_quantity',
                field=field, value=value, maximum=maximum))
    return number


def amount(value, field, maximum=MAX_AMOUNT):
    "Return value as an amount of money above zero and below maximum"
    try:
        if isinstance(value, bool) or value is None:
            raise ValueError
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = Decimal('NaN')
    if not number.is_finite() or not (0 < number < maximum):
        raise InputError(gettext('omni_retail.msg_input_amount',
                field=field, value=value, maximum=maximum))
    return number


def mapping(value, field):
    "Return value, an object (dictionary)"
    if not isinstance(value, dict):
        raise InputError(gettext('omni_retail.msg_input_object', field=field))
    return value


def items(value, field, maximum=MAX_ITEMS, required=True):
    "Return value, a list of at most maximum items"
    if value is None and not required:
        return []
    if not isinstance(value, (list, tuple)):
        raise InputError(gettext('omni_retail.msg_input_list', field=field))
    if required and not value:
        raise InputError(gettext(
                'omni_retail.msg_input_required', field=field))
    if len(value) > maximum:
        raise InputError(gettext('omni_retail.msg_input_items',
                field=field, maximum=maximum))
    return list(value)


def room_for(count, field, maximum=MAX_ITEMS):
    "Refuse one more item to the count items of a list at its maximum"
    if count >= maximum:
        raise InputError(gettext('omni_retail.msg_input_items',
                field=field, maximum=maximum))


def coordinate(value, field, limit):
    "Return value as a finite coordinate between -limit and limit"
    try:
        if isinstance(value, bool):
            raise ValueError
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = Decimal('NaN')
    if not number.is_finite() or abs(number) > limit:
        raise InputError(gettext('omni_retail.msg_input_coordinate',
                field=field, value=value, limit=limit))
    return number
