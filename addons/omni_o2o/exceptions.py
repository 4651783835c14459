# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError


class OrderError(UserError):
    "An order payload that cannot be accepted"


class UnknownProductError(OrderError):
    "An order for a product the chain does not sell"


class PickupError(UserError):
    pass


class PickupRateLimitError(UserError):
    pass


class TillError(UserError):
    "A cashier's action the till cannot take"
