# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from sql import Null
from sql.operators import Equal

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import Exclude, Index, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.modules.party.exceptions import EraseError
from trytond.transaction import Transaction

from omni_retail import inputs

from .exceptions import InvalidPhoneError

try:
    import phonenumbers
except ImportError:
    phonenumbers = None


_company_countries = Cache('omni_members.company_country', duration=3600)


def company_country_code():
    "Return the code of the country of the context's company, if any"
    pool = Pool()
    Company = pool.get('company.company')
    company_id = Transaction().context.get('company')
    if not company_id:
        return None
    code = _company_countries.get(company_id, -1)
    if code == -1:
        address = Company(company_id).party.address_get()
        code = address.country.code if address and address.country else None
        _company_countries.set(company_id, code)
    return code


def phone_key(phone):
    """Return the E.164 form of phone, read with the company's country as
    default region; raise InvalidPhoneError if it is no valid number"""
    phone = inputs.text(phone, 'phone', size=32, required=False)
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
    member_level = fields.Many2One(
        'omni.member.level', "Level", readonly=True, ondelete='RESTRICT')
    member_phone = fields.Function(fields.Char(
            "Member Phone",
            help="The member's mobile with its middle digits hidden."),
        'get_member_phone')
    member_points = fields.Function(
        fields.Integer("Points"), 'get_member_balances')
    member_balance = fields.Function(
        fields.Numeric("Stored Value", digits=(16, 2)),
        'get_member_balances')
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
        cls._sql_indexes.add(Index(t, (t.phone_key, Index.Equality())))

    @classmethod
    def default_marketing_consent(cls):
        return False

    def get_member_phone(self, name):
        return mask_phone(self.phone_key)

    @classmethod
    def get_member_balances(cls, parties, names):
        pool = Pool()
        Points = pool.get('omni.member.points')
        StoredValue = pool.get('omni.member.stored_value')
        result = {}
        if 'member_points' in names:
            result['member_points'] = Points.balances(parties)
        if 'member_balance' in names:
            result['member_balance'] = StoredValue.balances(parties)
        return result

    @classmethod
    def update_member_levels(cls, members):
        """Give members the level their spend of the last 12 months reached;
        return the members whose level changed"""
        pool = Pool()
        Level = pool.get('omni.member.level')
        members = [m for m in members if m.member_number]
        levels = Level.search([], order=[('threshold', 'DESC')])
        changed = []
        for member_id, spend in Level.spends(members).items():
            member = cls(member_id)
            level = next((l for l in levels if l.threshold <= spend), None)
            if member.member_level != level:
                member.member_level = level
                changed.append(member)
        cls.save(changed)
        return changed

    @classmethod
    def update_all_member_levels(cls):
        "Recompute the level of every member, as the nightly task does"
        members = cls.search([('member_number', '!=', None)])
        for i in range(0, len(members), 1000):
            cls.update_member_levels(members[i:i + 1000])

    def member_discount(self, price):
        "Return price less the member's level discount"
        if self.member_level:
            return self.member_level.discount(price)
        return price


def mask_phone(phone):
    "Return phone with the digits but the country code and last 4 hidden"
    if not phone:
        return phone
    number = phonenumbers.parse(phone)
    national = str(number.national_number)
    hidden = national[:3] + '*' * (len(national) - 7) + national[-4:]
    return f'+{number.country_code} {hidden}'


class Address(metaclass=PoolMeta):
    __name__ = 'party.address'

    @classmethod
    def on_modification(cls, mode, addresses, field_names=None):
        pool = Pool()
        Company = pool.get('company.company')
        super().on_modification(mode, addresses, field_names=field_names)
        # A company's country may have changed: a customer's address, as
        # each new member's, leaves every server's cache as it is
        if mode == 'delete' or Company.search([
                    ('party', 'in', list({a.party.id for a in addresses})),
                    ], limit=1):
            _company_countries.clear()


class PartyReplace(metaclass=PoolMeta):
    __name__ = 'party.replace'

    @classmethod
    def fields_to_replace(cls):
        return super().fields_to_replace() + [
            ('omni.member.points', 'member'),
            ('omni.member.stored_value', 'member'),
            ('sale.point.sale', 'member'),
            ]


class PartyErase(metaclass=PoolMeta):
    __name__ = 'party.erase'

    def check_erase(self, party):
        pool = Pool()
        StoredValue = pool.get('omni.member.stored_value')
        super().check_erase(party)
        if StoredValue.balances([party])[party.id]:
            raise EraseError(gettext(
                    'omni_members.msg_erase_stored_value',
                    party=party.rec_name))

    def transition_erase(self):
        pool = Pool()
        Audit = pool.get('omni.audit.log')
        party = self.ask.party
        Audit.log('member_erase', party, {
                'member': party.member_number or party.code})
        return super().transition_erase()

    def to_erase(self, party_id):
        pool = Pool()
        Party = pool.get('party.party')
        return super().to_erase(party_id) + [
            (Party, [('id', '=', party_id)], False,
                ['phone_key', 'birthday', 'marketing_consent'],
                [None, None, False]),
            ]


class ContactMechanism(metaclass=PoolMeta):
    __name__ = 'party.contact_mechanism'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # Customers are found by their number at registration
        cls._sql_indexes.add(Index(t, (t.value_compact, Index.Equality())))

    def get_rec_name(self, name):
        pool = Pool()
        FieldAccess = pool.get('ir.model.field.access')
        accesses = FieldAccess.get_access([self.__name__])[self.__name__]
        if (self.type in {'phone', 'mobile'}
                and not accesses.get('value', {}).get('read', True)):
            # Who may not read the number sees it masked in the name too
            try:
                number = mask_phone(self.value_compact)
            except phonenumbers.NumberParseException:
                number = '*' * len(self.value or '')
            return '%s <%s>' % (self.name or self.party.rec_name, number)
        return super().get_rec_name(name)

    @fields.depends('party', '_parent_party.addresses')
    def _phone_country_codes(self):
        # Numbers typed without country code at a till are local numbers
        yield from super()._phone_country_codes()
        if code := company_country_code():
            yield code
