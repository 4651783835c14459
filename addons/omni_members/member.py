# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from sql import Literal, Null
from sql.aggregate import Sum

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Model
from trytond.model.exceptions import SQLConstraintError
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction, check_access

from omni_retail import inputs
from omni_retail.tools import queue_behind

from .exceptions import UnknownChannelError, UnknownMemberError
from .party import mask_phone, phone_key


class Member(Model):
    "Members of the chain, one per mobile number, for every channel"
    __name__ = 'omni.member'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'register': RPC(readonly=False),
                'lookup': RPC(readonly=True),
                # Its door: the right to merge members
                'merge': RPC(readonly=False, check_access=False),
                })

    @classmethod
    def register(cls, phone, name, channel_code):
        """Return the member of phone, making a member of the customer with
        that mobile or of a new one when there is none"""
        pool = Pool()
        Channel = pool.get('omni.channel')
        Date = pool.get('ir.date')
        key = phone_key(phone)
        name = inputs.text(name, 'name', size=100, required=False)
        channels = Channel.search([
                ('code', '=', inputs.text(channel_code, 'channel', size=32)),
                ], limit=1)
        if not channels:
            raise UnknownChannelError(gettext(
                    'omni_members.msg_unknown_channel', code=channel_code))
        channel, = channels
        member = cls.find(key)
        if member:
            return cls.describe(member, created=False)
        queue_behind(f'omni.member,{key}')
        party = cls.customer(key) or cls.new_customer(name, key)
        party.member_number = cls.next_number()
        party.phone_key = key
        party.member_channel = channel
        party.member_since = Date.today()
        try:
            party.save()
        except SQLConstraintError as e:
            # Someone registered the number meanwhile: the caller's
            # retry (as the RPC dispatcher does) finds that member
            raise backend.DatabaseOperationalError(str(e)) from e
        return cls.describe(party, created=True)

    @classmethod
    def lookup(cls, phone):
        """Return the member of phone, whatever its format, with level,
        points and stored value; or None"""
        pool = Pool()
        Level = pool.get('omni.member.level')
        Party = pool.get('party.party')
        Points = pool.get('omni.member.points')
        StoredValue = pool.get('omni.member.stored_value')
        key = phone_key(phone)
        party = Party.__table__()
        points = Points.__table__()
        stored_value = StoredValue.__table__()
        # One indexed read: tills look members up at every sale
        cursor = Transaction().connection.cursor()
        cursor.execute(*party.select(
                party.id, party.member_number, party.name,
                party.member_level,
                points.select(Sum(points.points),
                    where=points.member == party.id),
                stored_value.select(Sum(stored_value.amount),
                    where=stored_value.member == party.id),
                where=(party.phone_key == key)
                & (party.member_number != Null)
                & (party.active == Literal(True)),
                limit=1))
        row = cursor.fetchone()
        if not row:
            return None
        id_, number, name, level, points, balance = row
        level = Level(level).name if level else None
        return {
            'id': id_,
            'number': number,
            'phone': key,
            'name': name,
            'level': level,
            'points': str(Points._cast(points)),
            'balance': str(StoredValue._cast(balance)),
            }

    @classmethod
    def merge(cls, source_number, target_number, reason=None):
        """Merge the member of source_number into the member of
        target_number; return the surviving member"""
        pool = Pool()
        Merge = pool.get('omni.member.merge')
        ModelAccess = pool.get('ir.model.access')
        with check_access():
            ModelAccess.check(Merge.__name__, 'create')
        source, target = (cls.by_number(inputs.text(n, 'number', size=32))
            for n in [source_number, target_number])
        merge = Merge.merge(source, target, reason=reason)
        return cls.describe_balances(merge.target)

    @classmethod
    def by_number(cls, number):
        member = cls._member_where(lambda t: t.member_number == number)
        if not member:
            raise UnknownMemberError(gettext(
                    'omni_members.msg_unknown_member', number=number))
        return member

    @classmethod
    def find(cls, key):
        "Return the active member of the phone key, or None"
        return cls._member_where(lambda t: t.phone_key == key)

    @classmethod
    def _member_where(cls, condition):
        # Straight SQL on the indexed columns: the ORM compares a Char
        # through COALESCE, which no index serves
        pool = Pool()
        Party = pool.get('party.party')
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*party.select(party.id,
                where=condition(party)
                & (party.member_number != Null)
                & (party.active == Literal(True)),
                limit=1))
        row = cursor.fetchone()
        return Party(row[0]) if row else None

    @classmethod
    def customer(cls, key):
        "Return the oldest active customer, not a member, with the mobile"
        pool = Pool()
        ContactMechanism = pool.get('party.contact_mechanism')
        Party = pool.get('party.party')
        party = Party.__table__()
        mechanism = ContactMechanism.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*mechanism.join(party,
                condition=mechanism.party == party.id).select(party.id,
                where=(mechanism.value_compact == key)
                & mechanism.type.in_(['mobile', 'phone'])
                & (mechanism.active == Literal(True))
                & (party.member_number == Null)
                & (party.active == Literal(True)),
                order_by=[party.id.asc], limit=1))
        row = cursor.fetchone()
        return Party(row[0]) if row else None

    @classmethod
    def new_customer(cls, name, key):
        pool = Pool()
        Party = pool.get('party.party')
        ContactMechanism = pool.get('party.contact_mechanism')
        # Documents print the name: a member who gave none is their phone
        return Party(name=name or mask_phone(key), contact_mechanisms=[
                ContactMechanism(type='mobile', value=key)])

    @classmethod
    def next_number(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Sequence = pool.get('ir.sequence')
        return Sequence(
            ModelData.get_id('omni_members', 'sequence_member')).get()

    @classmethod
    def describe(cls, party, **extra):
        return {
            'id': party.id,
            'number': party.member_number,
            'phone': party.phone_key,
            'name': party.name,
            **extra,
            }

    @classmethod
    def describe_balances(cls, party):
        return cls.describe(party,
            level=party.member_level.name if party.member_level else None,
            points=str(party.member_points),
            balance=str(party.member_balance))
