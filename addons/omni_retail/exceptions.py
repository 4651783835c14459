# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class ChannelValidationError(ValidationError):
    pass


class StockShortageError(UserError):
    pass


class UnknownCodeError(UserError):
    pass


class POSSaleReopenError(UserError):
    pass


class StockAlertError(UserError):
    "A stock threshold or alert request that cannot be accepted"
