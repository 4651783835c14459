# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""HTTP routes of the delivery platforms: signed JSON in, JSON out, a clear
status on every refusal and nothing written then"""
import json
import random
import time
from functools import wraps
from http import HTTPStatus

from trytond import backend
from trytond.exceptions import UserError
from trytond.protocols.wrappers import (
    Response, allow_null_origin, with_pool, with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app

from omni_retail.tools import one_at_a_time

from .exceptions import PlatformError

PREFIX = '/<database_name>/omni/platform/<code>'
# A platform delivering an order many times at once queues on it: keep
# trying rather than answer an error, for as long as a platform waits
PERSISTENCE = 30


def json_response(status, body):
    return Response(json.dumps(body, ensure_ascii=False), status=status,
        content_type='application/json')


def persistent(func):
    """Run func again while the database asks to, beyond the server's
    retries, for PERSISTENCE seconds; then answer 503"""
    @wraps(func)
    def wrapper(*args, **kwargs):
        deadline = time.monotonic() + PERSISTENCE
        while True:
            try:
                return func(*args, **kwargs)
            except backend.DatabaseOperationalError as error:
                if time.monotonic() > deadline:
                    return json_response(HTTPStatus.SERVICE_UNAVAILABLE,
                        {'error': str(error)})
                time.sleep(random.uniform(0.01, 0.2))
    return wrapper


def answer(work):
    "Return the JSON response of work(), or of its refusal rolled back"
    try:
        status, body = HTTPStatus.OK, work()
    except PlatformError as error:
        status, body = error.status, {'error': error.message}
    except UserError as error:
        status, body = HTTPStatus.BAD_REQUEST, {'error': error.message}
    if status != HTTPStatus.OK:
        Transaction().rollback()
    return json_response(status, body)


def activated(func):
    """Answer 404 on a database that does not take the platforms' calls:
    the routes are the server's, omni_platform the database's"""
    @wraps(func)
    def wrapper(request, pool, code):
        try:
            pool.get('omni.platform')
        except KeyError:
            return json_response(HTTPStatus.NOT_FOUND,
                {'error': "This database takes no delivery platform."})
        return func(request, pool, code)
    return wrapper


def one_order_at_a_time(func):
    """Let a platform's signed orders in one by one: they rush at the same
    stock. Unsigned calls are answered at once and queue for nothing."""
    @wraps(func)
    def wrapper(request, pool, code):
        Platform = pool.get('omni.platform')
        with Transaction().start(pool.database_name, 0, readonly=True):
            try:
                Platform.verified_channel(
                    code, request.get_data(), request.headers)
            except PlatformError as error:
                return json_response(error.status, {'error': error.message})
        try:
            with one_at_a_time(pool.database_name, f'omni.platform,{code}',
                    timeout=PERSISTENCE):
                return func(request, pool, code)
        except backend.DatabaseOperationalError as error:
            return json_response(HTTPStatus.SERVICE_UNAVAILABLE,
                {'error': str(error)})
    return wrapper


@app.route(PREFIX + '/order', methods={'POST'})
@allow_null_origin
@with_pool
@activated
@one_order_at_a_time
@persistent
@with_transaction()
def platform_order(request, pool, code):
    Platform = pool.get('omni.platform')
    return answer(lambda: Platform.receive_order(
            code, request.get_data(), request.headers))


@app.route(PREFIX + '/status', methods={'POST'})
@allow_null_origin
@with_pool
@activated
@persistent
@with_transaction()
def platform_status(request, pool, code):
    Platform = pool.get('omni.platform')
    return answer(lambda: Platform.receive_status(
            code, request.get_data(), request.headers))


@app.route(PREFIX + '/availability', methods={'GET'})
@allow_null_origin
@with_pool
@activated
@persistent
@with_transaction()
def platform_availability(request, pool, code):
    Platform = pool.get('omni.platform')
    return answer(lambda: Platform.availability(
            code, request.query_string, request.headers))
