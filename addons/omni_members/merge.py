# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from itertools import chain

from sql import Column, Literal, Null
from sql.aggregate import Count, Min
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import MergeError

MERGE_BATCH = 200


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
        merge, = cls.merge_many([(source, target)], reason=reason)
        return merge

    @classmethod
    def merge_duplicates(cls, duplicates, reason=None, progress=None):
        """Merge each duplicate into the party it duplicates; one whose kept
        party is itself merged waits for the next run"""
        pairs = dict((d.party, d.target) for d in duplicates)
        return cls.merge_many(
            [(s, t) for s, t in pairs.items() if t not in pairs],
            reason=reason, progress=progress)

    @classmethod
    def merge_many(cls, pairs, reason=None, progress=None):
        """Merge each (source, target) pair, calling progress(done, total)
        as it goes; return the audit records"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        ModelAccess.check(cls.__name__, 'create')
        pairs = list(dict(pairs).items())
        for source, target in pairs:
            cls.check_mergeable(source, target)
        sources = {s for s, _ in pairs}
        if sources & {t for _, t in pairs}:
            raise MergeError(gettext('omni_members.msg_merge_chain'))
        return cls._merge_many(pairs, reason, progress)

    @classmethod
    def _merge_many(cls, pairs, reason, progress):
        pool = Pool()
        Audit = pool.get('omni.audit.log')
        Party = pool.get('party.party')
        Points = pool.get('omni.member.points')
        StoredValue = pool.get('omni.member.stored_value')
        parties = sorted({p for pair in pairs for p in pair}, key=int)
        Party.lock(parties)
        points = Points.balances(parties)
        balances = StoredValue.balances(parties)
        merges = [cls(source=s, target=t, reason=reason,
                user=Transaction().user,
                source_points=points[s.id], target_points=points[t.id],
                source_balance=balances[s.id], target_balance=balances[t.id],
                source_level=s.member_level, target_level=t.member_level)
            for s, t in pairs]
        for i in range(0, len(pairs), MERGE_BATCH):
            cls.replace_parties(pairs[i:i + MERGE_BATCH])
            if progress:
                progress(min(i + MERGE_BATCH, len(pairs)), len(pairs))
        targets = Party.browse([t.id for _, t in pairs])
        for merge, target in zip(merges, targets):
            levels = [l for l in [merge.source_level, target.member_level]
                if l]
            if levels:
                target.member_level = max(levels, key=lambda l: l.threshold)
        Party.save(targets)
        points = Points.balances(targets)
        balances = StoredValue.balances(targets)
        for merge, target in zip(merges, targets):
            merge.points = points[target.id]
            merge.balance = balances[target.id]
            merge.level = target.member_level
        cls.save(merges)
        Audit.log_many([('member_merge', m, {
                        'source': m.source.rec_name,
                        'target': m.target.rec_name,
                        'reason': reason,
                        }) for m in merges])
        return merges

    @classmethod
    def replace_parties(cls, pairs):
        """Do for all pairs what Tryton's party.replace does for one: one
        update per field it replaces rather than one per field and pair"""
        pool = Pool()
        Address = pool.get('party.address')
        ContactMechanism = pool.get('party.contact_mechanism')
        Identifier = pool.get('party.identifier')
        Party = pool.get('party.party')
        Replace = pool.get('party.replace', type='wizard')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        sources = [s for s, _ in pairs]
        for Model in [Address, ContactMechanism, Identifier]:
            Model.write(Model.search([('party', 'in', sources)]),
                {'active': False})
        Party.write(*chain.from_iterable(
                ([s], {'replaced_by': t.id, 'active': False})
                for s, t in pairs))

        changed = []
        for model_name, field_name in Replace.fields_to_replace():
            Model = pool.get(model_name)
            table = Model.__table__()
            column = Column(table, field_name)
            if getattr(Model, field_name)._type == 'reference':
                mapping = [(str(s), str(t)) for s, t in pairs]
            else:
                mapping = [(s.id, t.id) for s, t in pairs]
            where = fields.SQL_OPERATORS['in'](column, [s for s, _ in mapping])
            if transaction.database.has_returning():
                returning = [table.id]
            else:
                cursor.execute(*table.select(table.id, where=where))
                ids = [i for i, in cursor]
                returning = None
            cursor.execute(*table.update([column],
                    [Case(*((column == s, t) for s, t in mapping),
                            else_=column)],
                    where=where, returning=returning))
            if returning:
                ids = [i for i, in cursor]
            Model._insert_history(ids)
            changed.append((Model, field_name, ids))
        for Model, field_name, ids in changed:
            Model.on_modification('write', Model.browse(ids), {field_name})

    @classmethod
    def check_mergeable(cls, source, target):
        if source == target or not source.active or not target.active:
            raise MergeError(gettext('omni_members.msg_merge_invalid',
                    source=source.rec_name, target=target.rec_name))


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
            Min(mechanism.id).as_('id'), mechanism.party,
            mechanism.value_compact.as_('phone'),
            party.member_number,
            where=mechanism.type.in_(['mobile', 'phone'])
            & (mechanism.value_compact != Null)
            & (mechanism.active == Literal(True))
            & (party.active == Literal(True)),
            group_by=[mechanism.party, mechanism.value_compact,
                party.member_number])
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
