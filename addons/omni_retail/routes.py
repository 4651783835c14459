# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The integrators' keyed route: a granted business method called as the
key's user, kept to the key's channel; JSON in, JSON out, a clear status on
every refusal and nothing but its audit line written then"""
import json
import logging
from contextlib import contextmanager
from functools import wraps
from http import HTTPStatus

from werkzeug.exceptions import HTTPException

from trytond import backend
from trytond.exceptions import UserError, UserWarning
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.protocols.jsonrpc import JSONDecoder, JSONEncoder
from trytond.protocols.wrappers import (
    Response, allow_null_origin, user_application, with_pool,
    with_transaction)
from trytond.transaction import (
    Transaction, TransactionError, without_check_access)
from trytond.wsgi import app

from .api import APPLICATION
from .exceptions import ApiError

logger = logging.getLogger(__name__)
# An order of the most lines (inputs.MAX_ITEMS) fits many times over
MAX_BODY = 256 * 1024


def json_response(status, body):
    return Response(
        json.dumps(body, cls=JSONEncoder, ensure_ascii=False),
        status=status, content_type='application/json')


def json_refusals(func):
    """Answer the refusals of the HTTP layer (401, 404…) in JSON too, and a
    database still busy after the server's retries as 503"""
    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except HTTPException as error:
            if isinstance(
                    error.description, backend.DatabaseOperationalError):
                return json_response(HTTPStatus.SERVICE_UNAVAILABLE,
                    {'error': str(error.description)})
            return json_response(error.code, {'error': error.name})
    return wrapper


@app.route('/<database_name>/omni/api/<model>/<method>', methods={'POST'})
@json_refusals
@allow_null_origin
@with_pool
@with_transaction()
@user_application(APPLICATION, json=False)
def api_call(request, pool, model, method):
    """Call model.method with the arguments of the body as the key's user,
    in the user's language; answer in JSON and log the call"""
    Audit = pool.get('omni.audit.log')
    User = pool.get('res.user')
    transaction = Transaction()
    application = key_of(request)
    try:
        with transaction.set_context(
                User.get_preferences(context_only=True)):
            status, body = HTTPStatus.OK, call(
                application, model, method, request)
    except ApiError as error:
        status, body = error.status, {'error': error.message}
    except AccessError as error:
        status, body = HTTPStatus.FORBIDDEN, {'error': error.message}
    except (UserError, UserWarning) as error:
        status, body = HTTPStatus.UNPROCESSABLE_ENTITY, {
            'error': error.message}
    except (TransactionError, backend.DatabaseOperationalError):
        raise
    except Exception:
        # A bug or an input no check refused: the server's log has it, the
        # caller gets no Python text
        logger.exception("omni API call %s.%s failed", model, method)
        status, body = HTTPStatus.BAD_REQUEST, {
            'error': gettext('omni_retail.msg_api_failed')}
    if status != HTTPStatus.OK:
        transaction.rollback()
    # One line per call, refusals too
    Audit.log('api_call', application,
        {'method': f'{model}.{method}', 'status': int(status)})
    return json_response(status, body)


def key_of(request):
    "Return the integrator key the request was let in with"
    UserApplication = Pool().get('res.user.application')
    authorization = request.authorization
    if authorization.type == 'bearer':
        token = authorization.token
    else:
        token = authorization.get('password')
    return UserApplication.check(token, APPLICATION)


def call(application, model, method, request):
    "Return the result of the granted method called on the body's arguments"
    record = application.omni_method(model, method)
    channel = application.omni_channel
    if (request.content_length or 0) > MAX_BODY:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, gettext(
                'omni_retail.msg_api_body_size', size=MAX_BODY))
    try:
        body = json.loads(
            request.get_data() or b'null', object_hook=JSONDecoder())
    except ValueError as error:
        raise ApiError(HTTPStatus.BAD_REQUEST, gettext(
                'omni_retail.msg_api_body', error=error)) from error
    arguments = record.arguments(body)
    record.restrict(channel, arguments)
    record.check_arguments(arguments)
    with as_rpc(model, method):
        result = record.function()(**arguments)
    return record.filter_result(channel, result)


@contextmanager
def as_rpc(model, method):
    """Run the method as Tryton's dispatcher does: past the key's rights when
    its RPC says so, as the method then checks its own door"""
    if Pool().get(model).__rpc__[method].check_access:
        yield
    else:
        with without_check_access():
            yield


@app.route('/<database_name>/omni/health', methods={'GET'})
def health(request, database_name):
    """For a load balancer: 200 when this process serves the database and it
    answers, with the queue's waiting tasks and the age of the oldest due
    one; 503 otherwise (never a listing of the server's databases)"""
    try:
        if database_name not in Pool.database_list():
            raise ValueError("database not served by this process")
        return _health(request, Pool(database_name))
    except Exception as error:
        logger.warning("health of %s: %s", database_name, error)
        return json_response(HTTPStatus.SERVICE_UNAVAILABLE, {
                'status': 'unavailable', 'database': database_name,
                'error': str(error) or error.__class__.__name__})


@with_transaction(readonly=True)
def _health(request, pool):
    import datetime as dt

    from sql import Null
    from sql.aggregate import Count
    from sql.conditionals import Coalesce

    queue = pool.get('ir.queue').__table__()
    cursor = Transaction().connection.cursor()
    now = dt.datetime.now()  # as ir.queue stamps its tasks
    due = (queue.dequeued_at == Null) & (
        (queue.scheduled_at == Null) | (queue.scheduled_at <= now))
    cursor.execute(*queue.select(Count(queue.id), where=due))
    waiting, = cursor.fetchone()
    cursor.execute(*queue.select(queue.scheduled_at, queue.enqueued_at,
            where=due, limit=1,
            order_by=[Coalesce(queue.scheduled_at, queue.enqueued_at)]))
    row = cursor.fetchone()
    oldest = (now - (row[0] or row[1])).total_seconds() if row else 0
    return json_response(HTTPStatus.OK, {
            'status': 'ok', 'database': pool.database_name,
            'queue': {'waiting': waiting,
                'oldest_seconds': max(round(oldest, 1), 0)}})
