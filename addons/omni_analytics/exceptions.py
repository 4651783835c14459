# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError


class AnalyticsError(UserError):
    "An analytics request that cannot be answered"
