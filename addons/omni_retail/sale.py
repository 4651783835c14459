# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta

from .exceptions import POSSaleReopenError


class POSSale(metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    @classmethod
    def omni_store_sales(cls, sales):
        "Return the sales rung up at the till of an omni store"
        pool = Pool()
        Channel = pool.get('omni.channel')
        points = {s.point for s in sales}
        stores = Channel.search([
                ('kind', '=', 'store'),
                ('sale_point', 'in', [p.id for p in points]),
                ])
        store_points = {s.sale_point for s in stores}
        return [s for s in sales if s.point in store_points]

    @property
    def omni_store(self):
        "The store whose till rang the sale up, or None"
        pool = Pool()
        Channel = pool.get('omni.channel')
        return Channel.store_of_point(self.point)

    @classmethod
    @Workflow.transition('done')
    def do(cls, sales):
        "Take the goods out of the store's stock at the moment of sale"
        pool = Pool()
        Level = pool.get('omni.stock.level')
        Move = pool.get('stock.move')
        moves = [move for sale in cls.omni_store_sales(sales)
            for line in sale.lines
            if (move := line.get_stock_move())]
        if moves:
            Move.save(moves)
            Level.check_available(Move.warehouse_needs(moves))
            Move.do(moves)
        super().do(sales)

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def open(cls, sales):
        for sale in cls.omni_store_sales(
                [s for s in sales if s.state == 'done']):
            raise POSSaleReopenError(gettext(
                    'omni_retail.msg_pos_sale_reopen_done',
                    sale=sale.rec_name))
        super().open(sales)


class POSSaleLine(metaclass=PoolMeta):
    __name__ = 'sale.point.sale.line'

    @fields.depends('product', 'quantity', 'sale', '_parent_sale.point',
        methods=['on_change_with_unit_price', 'on_change_with_amount'])
    def on_change_product(self):
        "Sell at the store's channel price"
        super().on_change_product()
        store = self.omni_store()
        if self.product and store and store.price_list:
            quantity = abs(self.quantity or 1)
            self.unit_gross_price = store.gross_price(self.product, quantity)
            self.unit_list_price = store.unit_price(self.product, quantity)
            self.unit_price = self.on_change_with_unit_price()
            self.amount = self.on_change_with_amount()

    @fields.depends('sale', '_parent_sale.point')
    def omni_store(self):
        "Return the store of the line's till"
        pool = Pool()
        Channel = pool.get('omni.channel')
        if self.sale and self.sale.point:
            return Channel.store_of_point(self.sale.point)

    @classmethod
    def validate(cls, lines):
        super().validate(lines)
        for line in lines:
            store = line.omni_store()
            if (store and line.product and line.product.type == 'goods'
                    and line.quantity > 0):
                # Goods delisted since may still be returned
                store.check_listed([line.product])

    def get_stock_move(self):
        # Lines of omni stores moved their goods when the sale was done
        if self.moves:
            return None
        return super().get_stock_move()

    @property
    def to_location(self):
        # As the point's help says: returns go to storage without a
        # return location
        return super().to_location or self.sale.point.storage_location
