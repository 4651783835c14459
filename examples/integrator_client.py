#!/usr/bin/env python3
# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""An integrator (the online mall) calling omni-retail with its API key.

Registers a member, checks stock, places a pickup order and follows its
status, through the keyed route POST /<database>/omni/api/<model>/<method>.
Only the standard library is used.

    python examples/integrator_client.py --key KEY \\
        [--url http://127.0.0.1:8000] [--database omni_demo] \\
        [--phone 13900139000] [--store S01] [--product CODE]

`make demo` prints the demo's key for the MALL channel.
集成方（线上商城）以 API 密钥调用全渠道零售系统的示例：注册会员、查询库存、
下自提单并跟踪状态。
"""
import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import quote


class ApiError(Exception):
    "A call the server refused: status is the HTTP status"

    def __init__(self, status, message):
        super().__init__(f'{status}: {message}')
        self.status = status
        self.message = message


def urllib_transport(url, body, headers):
    "POST body to url; return (status, decoded JSON answer)"
    request = urllib.request.Request(
        url, data=body, headers=headers, method='POST')
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b'null')
    except urllib.error.HTTPError as error:
        try:
            answer = json.loads(error.read() or b'null')
        except ValueError:
            answer = {'error': error.reason}
        return error.code, answer


class Client:
    """The keyed API of one database; transport(url, body, headers) sends
    the request (urllib by default)"""

    def __init__(self, url, database, key, transport=urllib_transport):
        self.base = f"{url.rstrip('/')}/{quote(database)}/omni/api"
        self.key = key
        self.transport = transport

    def call(self, business_method, /, *args, **kwargs):
        """Call business_method ("omni.order.status") with positional or
        keyword arguments; return its result"""
        model, method = business_method.rsplit('.', 1)
        body = json.dumps(kwargs if kwargs else list(args)).encode()
        status, answer = self.transport(f'{self.base}/{model}/{method}',
            body, {
                'Authorization': f'Bearer {self.key}',
                'Content-Type': 'application/json',
                })
        if status != 200:
            raise ApiError(status, (answer or {}).get('error'))
        return answer


def register_member(client, phone, name):
    "Return the member of phone, registered from the key's channel"
    return client.call('omni.member.register', phone=phone, name=name)


def check_stock(client, product_codes, store_codes=None):
    "Return {product: {store: available}}"
    return client.call('omni.stock.availability', product_codes, store_codes)


def place_pickup_order(client, reference, phone, store, lines):
    """Place the order reference of the member of phone for pickup at
    store; lines: {product code: quantity}. The key's channel is filled in.
    """
    return client.call('omni.order.place', {
            'reference': reference,
            'member_phone': phone,
            'fulfilment': 'pickup',
            'store': store,
            'lines': [{'product': p, 'quantity': q}
                for p, q in lines.items()],
            })


def order_status(client, number):
    "Return the state, store and timeline of the order"
    return client.call('omni.order.status', number)


def follow_status(client, number, until=('ready', 'done', 'picked_up',
            'cancelled', 'expired'), every=5, times=3, out=sys.stdout):
    "Print the order's state every seconds, a few times or until it settles"
    for i in range(times):
        status = order_status(client, number)
        print(f"  {number}: {status['state']} at {status['store']}",
            file=out)
        if status['state'] in until or i == times - 1:
            return status
        time.sleep(every)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', default='http://127.0.0.1:8000')
    parser.add_argument('--database', default='omni_demo')
    parser.add_argument('--key', required=True)
    parser.add_argument('--phone', default='13900139000')
    parser.add_argument('--store', default='S01')
    parser.add_argument('--product', help="a product code (default: the "
        "best stocked of the store among a few)")
    args = parser.parse_args(argv)
    client = Client(args.url, args.database, args.key)
    try:
        member = register_member(client, args.phone, "API 示例顾客")
        print(f"member {member['number']} ({member['phone']}), "
            f"new: {member['created']}")
        product = args.product
        if not product:
            stock = check_stock(client, ['BEV0001', 'BEV0002', 'BEV0003'],
                [args.store])
        else:
            stock = check_stock(client, [product], [args.store])
        print(f"stock at {args.store}: {stock}")
        product = max(stock, key=lambda p: stock[p].get(args.store, 0))
        order = place_pickup_order(client, f'EXAMPLE-{int(time.time())}',
            args.phone, args.store, {product: 1})
        print(f"order {order['number']}: {order['state']}, "
            f"total {order['total']}")
        follow_status(client, order['number'], every=1, times=2)
    except ApiError as error:
        sys.exit(f"refused {error.status}: {error.message}")


if __name__ == '__main__':
    main()
