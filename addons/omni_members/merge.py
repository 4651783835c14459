# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from sql import Literal, Null
from sql.aggregate import Count, Min
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import MergeError


class Merge(ModelSQL, ModelView):
    "Member Merge"
    __name__ = 'omni.member.merge'

    source = fields.Many2One(
        'party.party', "Merged", required=True, readonly=True,
        ondelete='RESTRICT',
        help="The duplicate, now inactive and replaced by the kept member.")
    target = fields.Many2One(
        'party.party', "Kept", required=True, readonly=True,
        ondelete='RESTRICT')
    user = fields.Many2One('res.user', "User", readonly=True)
    reason = fields.Char("Reason", readonly=True)
    source_points = fields.Integer("Merged Points", readonly=True)
    target_points = fields.Integer("Kept Points Before", readonly=True)
    points = fields.Integer("Points After", readonly=True)
    source_balance = fields.Numeric(
        "Merged Stored Value", digits=(16, 2), readonly=True)
    target_balance = fields.Numeric(
        "Kept Stored Value Before", digits=(16, 2), readonly=True)
    balance = fields.Numeric(
        "Stored Value After", digits=(16, 2), readonly=True)
    source_level = fields.Many2One(
        'omni.member.level', "Merged Level", readonly=True)
    target_level = fields.Many2One(
        'omni.member.level', "Kept Level Before", readonly=True)
    level = fields.Many2One(
        'omni.member.level', "Level After", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def check_modification(cls, mode, merges, values=None, external=False):
        super().check_modification(
            mode, merges, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise AccessError(gettext('omni_members.msg_merge_audit_frozen'))

    @classmethod
    def merge(cls, source, target, reason=None):
        """Move everything of party source to member target, which keeps
        the higher level; deactivate source and return the audit record"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        ModelAccess.check(cls.__name__, 'create')
        cls.check_mergeable(source, target)
        with without_check_access():
            return cls._merge(source, target, reason)

    @classmethod
    def _merge(cls, source, target, reason):
        pool = Pool()
        Party = pool.get('party.party')
        Replace = pool.get('party.replace', type='wizard')
        Party.lock(sorted([source, target], key=int))
        merge = cls(source=source, target=target, reason=reason,
            user=Transaction().user,
            source_points=source.member_points,
            target_points=target.member_points,
            source_balance=source.member_balance,
            target_balance=target.member_balance,
            source_level=source.member_level,
            target_level=target.member_level)
        levels = [l for l in [source.member_level, target.member_level] if l]
        transaction = Transaction()
        # The merge was asked for explicitly and its access checked: run
        # Tryton's replacement as a step of it, whatever names differ
        with transaction.set_user(0), transaction.set_context(
                active_model=None, active_id=None, active_ids=None,
                action_id=None, _skip_warnings=True):
            session_id, _, _ = Replace.create()
            replace = Replace(session_id)
            replace.ask.source = source
            replace.ask.destination = target
            replace.transition_replace()
            Replace.delete(session_id)
        target = Party(target.id)
        if levels:
            target.member_level = max(levels, key=lambda l: l.threshold)
            target.save()
        merge.points = target.member_points
        merge.balance = target.member_balance
        merge.level = target.member_level
        merge.save()
        return merge

    @classmethod
    def check_mergeable(cls, source, target):
        if source == target or not source.active or not target.active:
            raise MergeError(gettext('omni_members.msg_merge_invalid',
                    source=source.rec_name, target=target.rec_name))

    @classmethod
    def merge_duplicates(cls, duplicates, reason=None, progress=None):
        """Merge each duplicate into the party it duplicates, calling
        progress(done, total) as it goes; return the audit records"""
        pool = Pool()
        Party = pool.get('party.party')
        # One lock of the parties for the batch rather than one per pair
        Party.lock()
        merges = []
        for i, duplicate in enumerate(duplicates, 1):
            merges.append(cls.merge(
                    duplicate.party, duplicate.target, reason=reason))
            if progress:
                progress(i, len(duplicates))
        return merges


class Duplicate(ModelSQL, ModelView):
    """Member Duplicate

    A party whose mobile, once in international form, is another's: the
    duplicate of a legacy import or a second sign-up"""
    __name__ = 'omni.member.duplicate'

    party = fields.Many2One('party.party', "Duplicate", readonly=True)
    target = fields.Many2One(
        'party.party', "Merge Into", readonly=True,
        help="The member that keeps the duplicate's history: the member "
        "of the number if there is one, else the oldest party.")
    phone = fields.Char("Phone", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('phone', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Party = pool.get('party.party')
        ContactMechanism = pool.get('party.contact_mechanism')
        party = Party.__table__()
        mechanism = ContactMechanism.__table__()

        numbers = mechanism.join(party,
            condition=(mechanism.party == party.id)).select(
            mechanism.id, mechanism.party,
            mechanism.value_compact.as_('phone'),
            party.member_number,
            where=mechanism.type.in_(['mobile', 'phone'])
            & (mechanism.value_compact != Null)
            & (mechanism.active == Literal(True))
            & (party.active == Literal(True)))
        targets = numbers.select(
            numbers.phone,
            Min(Case((numbers.member_number != Null, numbers.party))
                ).as_('member'),
            Min(numbers.party).as_('oldest'),
            group_by=[numbers.phone],
            having=Count(numbers.party, distinct=True) > 1)
        duplicate = numbers.join(targets,
            condition=numbers.phone == targets.phone)
        target = Case(
            (targets.member != Null, targets.member), else_=targets.oldest)
        return duplicate.select(
            numbers.id,
            Literal(0).as_('create_uid'),
            Literal(None).as_('create_date'),
            Literal(None).as_('write_uid'),
            Literal(None).as_('write_date'),
            numbers.party,
            target.as_('target'),
            numbers.phone,
            where=numbers.party != target)


class MergeStart(ModelView):
    "Merge Members"
    __name__ = 'omni.member.merge.start'

    source = fields.Many2One(
        'party.party', "Duplicate", required=True,
        domain=[('id', '!=', Eval('target', -1))])
    target = fields.Many2One(
        'party.party', "Keep", required=True,
        domain=[
            ('member_number', '!=', None),
            ('id', '!=', Eval('source', -1)),
            ])
    reason = fields.Char("Reason", required=True)

    @classmethod
    def default_source(cls):
        context = Transaction().context
        if context.get('active_model') == 'party.party':
            return context.get('active_id')


class MergeMembers(Wizard):
    "Merge Members"
    __name__ = 'omni.member.merge.wizard'
    start = StateView('omni.member.merge.start',
        'omni_members.merge_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Merge", 'merge', 'tryton-ok', default=True),
            ])
    merge = StateTransition()

    def transition_merge(self):
        pool = Pool()
        Merge = pool.get('omni.member.merge')
        Merge.merge(self.start.source, self.start.target,
            reason=self.start.reason)
        return 'end'


class MergeDuplicatesStart(ModelView):
    "Merge Duplicates"
    __name__ = 'omni.member.merge_duplicates.start'

    count = fields.Integer("Duplicates", readonly=True)
    reason = fields.Char("Reason", required=True)


class MergeDuplicates(Wizard):
    "Merge Duplicates"
    __name__ = 'omni.member.merge_duplicates'
    start = StateView('omni.member.merge_duplicates.start',
        'omni_members.merge_duplicates_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Merge", 'merge', 'tryton-ok', default=True),
            ])
    merge = StateTransition()

    def default_start(self, fields):
        return {'count': len(self.records)}

    def transition_merge(self):
        pool = Pool()
        Merge = pool.get('omni.member.merge')
        Merge.merge_duplicates(self.records, reason=self.start.reason)
        return 'end'


class AdjustStart(ModelView):
    "Adjust Member Balances"
    __name__ = 'omni.member.adjust.start'

    member = fields.Many2One(
        'party.party', "Member", required=True,
        domain=[('member_number', '!=', None)])
    points = fields.Integer(
        "Points", help="Added to the member's points; negative to remove.")
    amount = fields.Numeric(
        "Stored Value", digits=(16, 2),
        help="Added to the member's stored value; negative to remove.")
    reason = fields.Char("Reason", required=True)

    @classmethod
    def default_member(cls):
        context = Transaction().context
        if context.get('active_model') == 'party.party':
            return context.get('active_id')


class Adjust(Wizard):
    "Adjust Member Balances"
    __name__ = 'omni.member.adjust'
    start = StateView('omni.member.adjust.start',
        'omni_members.adjust_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Adjust", 'adjust', 'tryton-ok', default=True),
            ])
    adjust = StateTransition()

    def transition_adjust(self):
        pool = Pool()
        Points = pool.get('omni.member.points')
        StoredValue = pool.get('omni.member.stored_value')
        start = self.start
        for Ledger, value in [
                (Points, {'points': start.points}),
                (StoredValue, {'amount': start.amount})]:
            if any(value.values()):
                Ledger.adjust(start.member, start.reason, **value)
        return 'end'
