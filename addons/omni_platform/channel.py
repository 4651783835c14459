# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from .platform import ADAPTERS

SECRET_SHOWN = '********'


class Channel(metaclass=PoolMeta):
    __name__ = 'omni.channel'

    platform_secret = fields.Function(fields.Char(
            "Webhook Secret", strip=False,
            states={
                'invisible': Eval('kind') != 'platform',
                },
            help="Shared with the platform, which signs each call with it "
            "(HMAC-SHA256 of the body). Never shown once set."),
        'get_platform_secret', setter='set_platform_secret')
    platform_adapter = fields.Selection(
        ADAPTERS, "Adapter",
        states={
            'invisible': Eval('kind') != 'platform',
            'required': Eval('kind') == 'platform',
            },
        help="How the platform's messages read.")

    @classmethod
    def default_platform_adapter(cls):
        return 'generic'

    @classmethod
    def get_platform_secret(cls, channels, name):
        pool = Pool()
        Secret = pool.get('omni.platform.secret')
        kept = {s.channel.id for s in Secret.search(
                [('channel', 'in', [c.id for c in channels])])}
        return {c.id: SECRET_SHOWN if c.id in kept else None
            for c in channels}

    @classmethod
    def set_platform_secret(cls, channels, name, value):
        pool = Pool()
        Secret = pool.get('omni.platform.secret')
        Secret.delete(Secret.search(
                [('channel', 'in', [c.id for c in channels])]))
        if value:
            Secret.save([Secret(channel=c, secret=value)
                    for c in channels])

    @property
    def webhook_secret(self):
        "The secret the platform signs with, None if none is set"
        pool = Pool()
        Secret = pool.get('omni.platform.secret')
        secrets = Secret.search([('channel', '=', self.id)], limit=1)
        return secrets[0].secret if secrets else None

    @property
    def serving_store(self):
        "The store whose stock the platform sells"
        pool = Pool()
        Channel = pool.get('omni.channel')
        stores = Channel.search([
                ('kind', '=', 'store'),
                ('warehouse', '=', self.warehouse.id),
                ], limit=1)
        return stores[0] if stores else None
