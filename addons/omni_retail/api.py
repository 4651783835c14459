# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Integrator API keys: Tryton user applications granted business methods
on one channel"""
import inspect
from http import HTTPStatus

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import ApiError, ApiKeyValidationError

APPLICATION = 'omni_api'
MASK = '*' * 8


class Method(ModelSQL, ModelView):
    """API Business Method

    A business method an integrator key may be granted, registered by the
    module that provides it, with the rule that binds it to the key's
    channel"""
    __name__ = 'omni.api.method'

    model = fields.Char("Model", required=True, readonly=True)
    method = fields.Char("Method", required=True, readonly=True)
    channel_rule = fields.Selection([
            ('any', "Any Channel"),
            ('argument', "Channel Argument"),
            ('stores', "Store Arguments"),
            ], "Channel Rule", required=True, readonly=True, sort=False,
        help="How a call is kept to the key's channel.")
    channel_parameter = fields.Char(
        "Channel Parameter", readonly=True,
        states={
            'invisible': Eval('channel_rule') == 'any',
            },
        help="The parameter that names the channel, "
        "\"payload.channel\" for a key of a dictionary.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('method_unique', Unique(t, t.model, t.method),
                'omni_retail.msg_api_method_unique'),
            ]
        cls._order = [('model', 'ASC'), ('method', 'ASC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        return f'{self.model}.{self.method}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('model', *clause[1:])]

    @classmethod
    def find(cls, model, method):
        "Return the registered method or None"
        methods = cls.search([
                ('model', '=', model),
                ('method', '=', method),
                ], limit=1)
        return methods[0] if methods else None

    def function(self):
        "Return the class method the record stands for, or None"
        pool = Pool()
        try:
            Model = pool.get(self.model)
        except KeyError:
            return None
        if self.method not in Model.__rpc__:
            return None
        return getattr(Model, self.method, None)

    def arguments(self, body):
        """Return the arguments of body (a list or a dictionary) by the
        method's parameter names; raise ApiError if they do not fit"""
        signature = inspect.signature(self.function())
        if body is None:
            body = []
        try:
            if isinstance(body, list):
                return signature.bind_partial(*body).arguments
            elif isinstance(body, dict):
                return signature.bind_partial(**body).arguments
            raise TypeError
        except TypeError:
            self.refuse_arguments(signature)

    def check_arguments(self, arguments):
        "Raise ApiError unless arguments are enough to call the method"
        signature = inspect.signature(self.function())
        try:
            signature.bind(**arguments)
        except TypeError:
            self.refuse_arguments(signature)

    def refuse_arguments(self, signature):
        raise ApiError(HTTPStatus.BAD_REQUEST, gettext(
                'omni_retail.msg_api_arguments',
                method=self.rec_name,
                parameters=', '.join(signature.parameters)))

    def restrict(self, channel, arguments):
        """Keep the call to channel: complete or refuse arguments in place
        after the method's channel rule"""
        getattr(self, f'_restrict_{self.channel_rule}')(channel, arguments)

    def filter_result(self, channel, result):
        "Return the part of result the key's channel may see"
        return getattr(self, f'_filter_{self.channel_rule}',
            lambda channel, result: result)(channel, result)

    def _restrict_any(self, channel, arguments):
        pass

    def _parameter(self, arguments):
        """Return the dictionary holding the channel parameter and its key
        in it"""
        *path, key = self.channel_parameter.split('.')
        holder = arguments
        for name in path:
            holder = holder.get(name)
            if not isinstance(holder, dict):
                raise ApiError(HTTPStatus.BAD_REQUEST, gettext(
                        'omni_retail.msg_api_arguments',
                        method=self.rec_name, parameters=name))
        return holder, key

    def _restrict_argument(self, channel, arguments):
        holder, key = self._parameter(arguments)
        if holder.get(key) in {None, ''}:
            holder[key] = channel.code
        elif holder[key] != channel.code:
            self.refuse(channel, holder[key])

    def _restrict_stores(self, channel, arguments):
        holder, key = self._parameter(arguments)
        codes = holder.get(key)
        if not codes:
            holder[key] = [channel.code]
        elif not isinstance(codes, list):
            raise ApiError(HTTPStatus.BAD_REQUEST, gettext(
                    'omni_retail.msg_api_arguments',
                    method=self.rec_name, parameters=key))
        else:
            for code in codes:
                if code != channel.code:
                    self.refuse(channel, code)

    def refuse(self, channel, other):
        raise ApiError(HTTPStatus.FORBIDDEN, gettext(
                'omni_retail.msg_api_channel',
                method=self.rec_name, channel=channel.code, other=other))


class ApplicationMethod(ModelSQL):
    "API Key - Business Method"
    __name__ = 'res.user.application-omni.api.method'

    application = fields.Many2One(
        'res.user.application', "API Key", required=True,
        ondelete='CASCADE')
    method = fields.Many2One(
        'omni.api.method', "Method", required=True, ondelete='CASCADE')


class UserApplication(metaclass=PoolMeta):
    __name__ = 'res.user.application'

    omni_channel = fields.Many2One(
        'omni.channel', "Channel", ondelete='RESTRICT',
        states={
            'required': Eval('application') == APPLICATION,
            'invisible': Eval('application') != APPLICATION,
            'readonly': Eval('state') == 'cancelled',
            },
        help="The channel the key's calls are kept to.")
    omni_methods = fields.Many2Many(
        'res.user.application-omni.api.method', 'application', 'method',
        "Business Methods",
        states={
            'invisible': Eval('application') != APPLICATION,
            'readonly': Eval('state') == 'cancelled',
            },
        help="The business methods the key may call.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.application.selection.append((APPLICATION, "Omni Retail API"))
        cls.key.states = {
            'invisible': (Eval('application') == APPLICATION)
            & (Eval('id', -1) >= 0),
            'readonly': (Eval('application') == APPLICATION)
            & (Eval('id', -1) >= 0),
            }

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//label[@id="key_once"]', 'states', {
                    'invisible': Eval('id', -1) >= 0,
                    }),
            ]

    @classmethod
    def validate_fields(cls, applications, field_names):
        super().validate_fields(applications, field_names)
        if field_names & {'application', 'user', 'omni_channel'}:
            cls.check_omni_integrator(applications)

    @classmethod
    def check_omni_integrator(cls, applications):
        """A key runs as its user: let it run as an integrator alone, not as
        staff"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        integrators = ModelData.get_id('omni_retail', 'group_omni_integrator')
        staff = {ModelData.get_id('res', 'group_admin'),
            ModelData.get_id('omni_retail', 'group_omni_manager'),
            ModelData.get_id('omni_retail', 'group_omni_store')}
        for application in applications:
            if application.application != APPLICATION:
                continue
            groups = {g.id for g in (
                    application.user.groups if application.user else [])}
            if (not application.omni_channel or integrators not in groups
                    or groups & staff):
                raise ApiKeyValidationError(gettext(
                        'omni_retail.msg_api_key_integrator',
                        user=application.user.rec_name
                        if application.user else ''))

    def get_rec_name(self, name):
        # Tryton names an application by its key: name it by its user
        user = self.user.rec_name if self.user else ''
        return f'{user} #{self.id}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('user.rec_name', *clause[1:])]

    @classmethod
    def search_domain(cls, domain, active_test=None, tables=None):
        "A key is found by itself whole, never guessed bit by bit"
        if Transaction().check_access and cls._key_pattern(domain):
            raise AccessError(gettext('omni_retail.msg_api_key_search'))
        return super().search_domain(
            domain, active_test=active_test, tables=tables)

    @classmethod
    def _key_pattern(cls, domain):
        "Whether the domain searches the key by anything but equality"
        if not isinstance(domain, (list, tuple)) or not domain:
            return False
        if isinstance(domain[0], str) and len(domain) >= 3:
            return (domain[0].split('.')[0] == 'key'
                and domain[1] not in {'=', 'in'})
        return any(cls._key_pattern(d) for d in domain)

    @classmethod
    def read(cls, ids, fields_names):
        "Never show an integrator key again once it is saved"
        rows = super().read(ids, fields_names)
        if 'key' in fields_names and Transaction().check_access:
            keyed = {a.id for a in cls.browse(ids)
                if a.application == APPLICATION}
            for row in rows:
                if row['id'] in keyed:
                    row['key'] = MASK
        return rows

    @classmethod
    def on_modification(cls, mode, applications, field_names=None):
        pool = Pool()
        Audit = pool.get('omni.audit.log')
        super().on_modification(mode, applications, field_names=field_names)
        if mode == 'create':
            Audit.log_many([('api_key_create', a, a.omni_describe())
                    for a in applications if a.application == APPLICATION])

    def omni_describe(self):
        return {
            'user': self.user.login if self.user else None,
            'channel': self.omni_channel.code if self.omni_channel else None,
            'methods': sorted(m.rec_name for m in self.omni_methods),
            }

    @classmethod
    def cancel(cls, applications):
        pool = Pool()
        Audit = pool.get('omni.audit.log')
        super().cancel(applications)
        Audit.log_many([('api_key_revoke', a, a.omni_describe())
                for a in applications if a.application == APPLICATION])

    def omni_method(self, model, method):
        """Return the granted business method model.method; raise ApiError
        if the key may not call it"""
        pool = Pool()
        Method = pool.get('omni.api.method')
        record = Method.find(model, method)
        if (not record or record not in self.omni_methods
                or not record.function()):
            raise ApiError(HTTPStatus.FORBIDDEN, gettext(
                    'omni_retail.msg_api_not_granted',
                    method=f'{model}.{method}'))
        return record
