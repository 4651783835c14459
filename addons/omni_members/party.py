# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from sql import Null
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import Exclude, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .exceptions import InvalidPhoneError

try:
    import phonenumbers
except ImportError:
    phonenumbers = None


def company_country_code():
    "Return the code of the country of the context's company, if any"
    pool = Pool()
    Company = pool.get('company.company')
    company_id = Transaction().context.get('company')
    if company_id:
        address = Company(company_id).party.address_get()
        if address and address.country:
            return address.country.code


def phone_key(phone):
    """Return the E.164 form of phone, read with the company's country as
    default region; raise InvalidPhoneError if it is no valid number"""
    try:
        number = phonenumbers.parse(phone or '', company_country_code())
    except phonenumbers.NumberParseException:
        number = None
    if not number or not phonenumbers.is_valid_number(number):
        raise InvalidPhoneError(gettext(
                'omni_members.msg_invalid_phone', phone=phone))
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.E164)


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    member_number = fields.Char(
        "Member Number", readonly=True, strip=False,
        help="The member card number; empty for customers who did not join.")
    phone_key = fields.Char(
        "Member Phone", readonly=True,
        help="The member's mobile in international form: "
        "one active member per number.")
    member_channel = fields.Many2One(
        'omni.channel', "Joined At", readonly=True, ondelete='RESTRICT')
    member_since = fields.Date("Member Since", readonly=True)
    birthday = fields.Date("Birthday")
    marketing_consent = fields.Boolean(
        "Marketing Consent",
        help="The member agreed to receive offers.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('member_number_unique', Unique(t, t.member_number),
                'omni_members.msg_member_number_unique'),
            ('member_phone_exclude', Exclude(t, (t.phone_key, Equal),
                    where=(t.active == True)  # noqa: E712
                    & (t.member_number != Null)),
                'omni_members.msg_member_phone_unique'),
            ]

    @classmethod
    def default_marketing_consent(cls):
        return False


class ContactMechanism(metaclass=PoolMeta):
    __name__ = 'party.contact_mechanism'

    @fields.depends('party', '_parent_party.addresses')
    def _phone_country_codes(self):
        # Numbers typed without country code at a till are local numbers
        yield from super()._phone_country_codes()
        if code := company_country_code():
            yield code
