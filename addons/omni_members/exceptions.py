# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError


class InvalidPhoneError(UserError):
    pass


class UnknownChannelError(UserError):
    pass


class UnknownMemberError(UserError):
    pass


class InsufficientBalanceError(UserError):
    pass


class MemberRequiredError(UserError):
    pass


class MemberConfigurationError(UserError):
    pass


class MergeError(UserError):
    pass


class AdjustReasonError(UserError):
    pass
