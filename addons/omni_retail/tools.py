# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import hashlib

from sql import Select
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.model import fields
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
    key = int.from_bytes(
        hashlib.sha256(name.encode('utf-8')).digest()[:8], 'big',
        signed=True)
    cursor = transaction.connection.cursor()
    cursor.execute(*Select([database.lock_id(key)]))
    if not cursor.fetchone()[0]:
        cursor.execute(*Select([database.lock_id(key, timeout=True)]))
        raise backend.DatabaseOperationalError(f"waited behind {name}")


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
