# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import hashlib

from sql import Select

from trytond import backend
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
