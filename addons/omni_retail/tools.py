# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import hashlib
from contextlib import contextmanager

from sql import Select
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction


def queue_behind(name):
    """Let one transaction at a time work on name (an order, a phone…).

    A transaction that had to wait for another is sent back to be retried
    (DatabaseOperationalError, as the RPC dispatcher does), since its
    snapshot predates what the other one wrote. Without this, transactions
    inserting the same unique value deadlock and keep on retrying."""
    transaction = Transaction()
    database = transaction.database
    key = lock_key(name)
    cursor = transaction.connection.cursor()
    cursor.execute(*Select([database.lock_id(key)]))
    if not cursor.fetchone()[0]:
        cursor.execute(*Select([database.lock_id(key, timeout=True)]))
        raise backend.DatabaseOperationalError(f"waited behind {name}")


def is_manager():
    "Whether the user is a manager of the chain (or the server itself)"
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    User = pool.get('res.user')
    if not Transaction().user:
        return True
    return ModelData.get_id(
        'omni_retail', 'group_omni_manager') in User.get_groups()


def check_manager():
    "Refuse the call of a user who is no manager of the chain"
    if not is_manager():
        raise AccessError(gettext('omni_retail.msg_manager_only'))


def lock_key(name):
    "Return the 64-bit advisory lock key of name"
    return int.from_bytes(
        hashlib.sha256(name.encode('utf-8')).digest()[:8], 'big',
        signed=True)


@contextmanager
def one_at_a_time(database_name, name, timeout):
    """Run the block alone among the blocks of name, on PostgreSQL; wait
    at most timeout seconds for the others (DatabaseOperationalError).

    The lock is held on a connection of its own, taken before the block's
    transactions start: a waiter's transaction then sees what the one
    before it wrote, and needs no retry."""
    if backend.name != 'postgresql':
        yield
        return
    database = backend.Database(database_name)
    connection = database.get_connection(autocommit=True)
    try:
        cursor = connection.cursor()
        key = lock_key(name)
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, false)",
            (f'{int(timeout * 1000)}ms',))
        cursor.execute('SELECT pg_advisory_lock(%s)', (key,))
        try:
            yield
        finally:
            cursor.execute('SELECT pg_advisory_unlock(%s)', (key,))
    finally:
        connection.cursor().execute('RESET lock_timeout')
        database.put_connection(connection)


def lock_and_touch(Model, records):
    """Lock the records of Model and mark them written.

    A lock granted after a rival committed without changing the rows would
    leave this transaction reading a snapshot without the rival's work:
    changing the rows makes PostgreSQL refuse such a late lock, so the
    rival's waiters retry with a fresh snapshot."""
    Model.lock(records)
    transaction = Transaction()
    table = Model.__table__()
    cursor = transaction.connection.cursor()
    for sub_ids in grouped_slice(
            [r.id for r in records], backend.MAX_QUERY_PARAMS):
        cursor.execute(*table.update(
                [table.write_date], [CurrentTimestamp()],
                where=fields.SQL_OPERATORS['in'](table.id, list(sub_ids))))
