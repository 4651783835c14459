# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import math

from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval

EARTH_RADIUS_KM = 6371


class Channel(metaclass=PoolMeta):
    __name__ = 'omni.channel'

    pickup_days = fields.Integer(
        "Pickup Days",
        domain=[('pickup_days', '>', 0)],
        states={
            'invisible': ~Eval('pickup', False),
            'required': Eval('pickup', False),
            },
        help="The days a ready pickup order waits before it expires.")

    @classmethod
    def default_pickup_days(cls):
        return 3

    def distance(self, latitude, longitude):
        "Return the distance in km from the store to the point, or None"
        if self.latitude is None or self.longitude is None:
            return None
        lat1, lon1, lat2, lon2 = map(math.radians, map(float, [
                    self.latitude, self.longitude, latitude, longitude]))
        a = (math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2)
            * math.sin((lon2 - lon1) / 2) ** 2)
        return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))
