# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Member Configuration"
    __name__ = 'omni.member.configuration'

    points_per_amount = fields.Numeric(
        "Points per Amount", digits=(16, 4), required=True,
        domain=[('points_per_amount', '>=', 0)],
        help="The points a member earns for each unit of currency spent, "
        "before the level's multiplier.")
    point_value = fields.Numeric(
        "Point Value", digits=(16, 4), required=True,
        domain=[('point_value', '>', 0)],
        help="The amount of currency one point pays.")
    points_validity = fields.Integer(
        "Points Validity", required=True,
        domain=[('points_validity', '>', 0)],
        help="The months after which earned points expire, oldest first.")
    points_product = fields.Many2One(
        'product.product', "Points Product",
        domain=[('type', '=', 'service')],
        help="The service of the line that takes the points paid off an "
        "online sale; its revenue account bears the cost of points.")
    top_up_product = fields.Many2One(
        'product.product', "Top-Up Product",
        domain=[('type', '=', 'service')],
        help="The service sold at the till to top up stored value; "
        "online sales paid with stored value get a negative line of it.")
    stored_value_account = fields.Many2One(
        'account.account', "Stored Value Account",
        domain=[
            ('type.omni_stored_value', '=', True),
            ('closed', '!=', True),
            ],
        help="The liability account that top-ups credit and payments in "
        "stored value debit.")
    top_up_bonus_account = fields.Many2One(
        'account.account', "Top-Up Bonus Account",
        domain=[('type', '!=', None), ('closed', '!=', True)],
        help="The expense account charged with the bonuses of top-ups.")

    @classmethod
    def default_points_per_amount(cls):
        return Decimal(1)

    @classmethod
    def default_point_value(cls):
        return Decimal('0.01')

    @classmethod
    def default_points_validity(cls):
        return 24
