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


class BusyError(UserError):
    "Too many calls wait for the same goods or records: try again"


class POSSaleReopenError(UserError):
    pass


class StockAlertError(UserError):
    "A stock threshold or alert request that cannot be accepted"


class PriceError(UserError):
    "A price or listing request that cannot be answered"


class PricePolicyError(ValidationError):
    "A price that breaks a same-price policy"


class StocktakeError(UserError):
    "A count, an approval or a confirmation a stocktake cannot accept"


class TransferError(ValidationError):
    "A transfer that moves nothing anywhere"


class HTTPRefusal(UserError):
    "A call over an HTTP route refused with an HTTP status"

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class ApiError(HTTPRefusal):
    "An integrator's keyed call refused with an HTTP status"


class ApiKeyValidationError(ValidationError):
    "An integrator key that cannot be saved"


class InputError(UserError):
    "An input of the wrong type, range or size, refused before any work"
