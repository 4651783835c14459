# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import hashlib
import logging
import sys
import threading
from contextlib import contextmanager

from sql import Select
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond import config
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, TransactionError, without_check_access)

from .exceptions import BusyError

logger = logging.getLogger(__name__)
# How long a call waits for its turn before it is told to try again
TURN_TIMEOUT = config.getfloat('omni', 'turn_timeout', default=20)
# How long a turn waits for the restart of the transaction that asked for it
TURN_RESTART_WAIT = 5
_turns = threading.local()


def queue_behind(name):
    """Let one transaction at a time work on name (an order, a phone…).
    Nothing to do when the transaction holds its turn on name.

    A transaction that had to wait for another is sent back to be retried
    (DatabaseOperationalError, as the RPC dispatcher does), since its
    snapshot predates what the other one wrote. Without this, transactions
    inserting the same unique value deadlock and keep on retrying."""
    if holds_turns([name]):
        return
    transaction = Transaction()
    database = transaction.database
    key = lock_key(name)
    cursor = transaction.connection.cursor()
    cursor.execute(*Select([database.lock_id(key)]))
    if not cursor.fetchone()[0]:
        cursor.execute(*Select([database.lock_id(key, timeout=True)]))
        raise backend.DatabaseOperationalError(f"waited behind {name}")


# The only reads past the user's rights: integrity, never what a user sees

@contextmanager
def stock_integrity():
    "Stock that decides a sale is every store's, whatever the seller reads"
    with without_check_access():
        yield


@contextmanager
def price_integrity():
    "A same-price policy compares every channel, whoever changes a price"
    with without_check_access():
        yield


@contextmanager
def channel_gate():
    "A key is held to its channel's orders, which its integrator cannot read"
    with without_check_access():
        yield


@contextmanager
def shared_answer():
    "An answer cached for the whole server cannot depend on who asked first"
    with without_check_access():
        yield

def is_manager():
    "Whether the user is a manager of the chain (or the server itself)"
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    User = pool.get('res.user')
    if not Transaction().user:
        return True
    return ModelData.get_id(
        'omni_retail', 'group_omni_manager') in User.get_groups()


def is_integrator():
    """Whether the user is an integrator's key, which has no password: it
    comes in by the keyed route only, held to its channel"""
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    User = pool.get('res.user')
    return bool(Transaction().user) and ModelData.get_id(
        'omni_retail', 'group_omni_integrator') in User.get_groups()


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
    rival's waiters retry with a fresh snapshot. Rows the transaction holds
    its turn on (see take_turns) are only marked: their writers queue."""
    if not holds_turns(record_turns(Model, records)):
        Model.lock(records)
    transaction = Transaction()
    table = Model.__table__()
    cursor = transaction.connection.cursor()
    for sub_ids in grouped_slice(
            [r.id for r in records], backend.MAX_QUERY_PARAMS):
        cursor.execute(*table.update(
                [table.write_date], [CurrentTimestamp()],
                where=fields.SQL_OPERATORS['in'](table.id, list(sub_ids))))


class _LocksFirst(TransactionError):
    "Restart the transaction with every lock asked for at once"

    def __init__(self, errors):
        super().__init__()
        self.errors = errors

    def fix(self, extras):
        super().fix(extras)
        for error in self.errors:
            error.fix(extras)


def lock_first(*locks, turns=()):
    """Lock the records of each (Model, records) of locks and take the turns
    on the names of turns (see take_turns), all of them in one go: a
    transaction that restarts to take them restarts once"""
    errors = []
    for Model, records in locks:
        try:
            Model.lock(records)
        except TransactionError as error:
            errors.append(error)
    try:
        take_turns(turns)
    except TurnRestart as error:
        errors.append(error)
    if errors:
        raise _LocksFirst(errors)


def record_turns(Model, records):
    "Return the names of the turns on the records of Model"
    return [f'{Model.__name__},{int(r)}' for r in records]


class TurnRestart(TransactionError):
    """Restart the transaction once its turn came: the wait happens after
    its rollback, so that it holds no row lock while in line, and before
    the restart, whose snapshot then holds the previous holders' work"""

    def __init__(self, database, keys):
        super().__init__()
        self.database, self.keys = database, keys

    def fix(self, extras):
        super().fix(extras)
        _turns.turn = _Turn(self.database, self.keys)


class _Turn:
    """Session advisory locks on keys, held on a connection of their own
    from the moment they are granted until the call that asked for them
    ends: its transaction commits or fails for good. A transaction that
    restarts keeps them for the next one, which never waits for them again
    while holding the row locks a restart takes first."""

    def __init__(self, database, keys):
        self.database_name = database.name
        self.keys = frozenset(keys)
        self.transaction = None
        self.committed = False
        self.database = database
        self.connection = database.get_connection(autocommit=True)
        self.mutex = threading.Lock()
        self.timer = None
        self.taken = []
        try:
            cursor = self.connection.cursor()
            cursor.execute("SELECT set_config('lock_timeout', %s, false)",
                (f'{int(TURN_TIMEOUT * 1000)}ms',))
            # In key order: two calls never wait for each other crosswise
            for key in sorted(self.keys):
                cursor.execute('SELECT pg_advisory_lock(%s)', (key,))
                self.taken.append(key)
        except backend.DatabaseOperationalError as e:
            self.release()
            logger.warning("no turn after %s s on %d keys",
                TURN_TIMEOUT, len(self.keys))
            raise BusyError(gettext('omni_retail.msg_busy')) from e
        except BaseException:
            self.release()
            raise
        self.wait_for_restart()

    def wait_for_restart(self):
        "Give the turn up if no transaction takes it up soon"
        self.transaction = None
        self.timer = threading.Timer(TURN_RESTART_WAIT, self.expire)
        self.timer.daemon = True
        self.timer.start()

    def expire(self):
        with self.mutex:
            if self.transaction is None:
                self.release()

    def adopt(self, transaction):
        """Hold the turn for transaction; return False if it was given up
        meanwhile"""
        with self.mutex:
            if self.connection is None:
                return False
            self.timer.cancel()
            self.transaction = transaction
            self.committed = False
            transaction.join(self)
            transaction.atexit(self.end)
            return True

    def end(self):
        "At the end of the transaction: release, or keep for its restart"
        with self.mutex:
            if self.committed or sys.exc_info()[1] is not None:
                self.release()
            elif self.connection is not None:
                self.wait_for_restart()

    def release(self):
        if getattr(_turns, 'turn', None) is self:
            _turns.turn = None
        if self.timer:
            self.timer.cancel()
        if self.connection is None:
            return
        connection, self.connection = self.connection, None
        try:
            cursor = connection.cursor()
            for key in reversed(self.taken):
                cursor.execute('SELECT pg_advisory_unlock(%s)', (key,))
            cursor.execute('RESET lock_timeout')
            self.database.put_connection(connection)
        except Exception:
            logger.exception("releasing a turn failed")
            connection.close()
            self.database.put_connection(connection)

    # The transaction's data manager: a commit ends the call
    def tpc_begin(self, transaction):
        pass

    def commit(self, transaction):
        pass

    def tpc_vote(self, transaction):
        pass

    def tpc_finish(self, transaction):
        self.committed = True

    def tpc_abort(self, transaction):
        pass


def take_turns(names):
    """Wait for this call's turn on each of names (a product's stock level,
    an order reference, a phone…), behind the calls that hold them, and
    keep it until the call ends.

    A call that needs every lock at its start asks for all of them here,
    before any work: the transaction restarts once, after the wait, so that
    its snapshot holds what the previous holders committed. Waiting in line
    takes the place of NOWAIT row locks, which under contention fail the
    callers instead of queueing them; a wait longer than TURN_TIMEOUT ends
    in a BusyError. SQLite writes one transaction at a time: nothing to do.
    """
    if backend.name != 'postgresql' or not names:
        return
    transaction = Transaction()
    keys = {lock_key(n) for n in names}
    resume_turns()
    turn = getattr(_turns, 'turn', None)
    if turn is not None:
        if turn.transaction is transaction and keys <= turn.keys:
            return
        turn.release()
    raise TurnRestart(transaction.database, keys)


def resume_turns():
    """Take up the turns the previous attempt of this call waited for, in
    the transaction restarted for them: a call that uses turns does this
    first, so that they end with this attempt whatever it does next
    (returns early, is refused…)"""
    turn = getattr(_turns, 'turn', None)
    if turn is not None and turn.transaction is None:
        transaction = Transaction()
        if (turn.database_name != transaction.database.name
                or not turn.adopt(transaction)):
            turn.release()


def holds_turns(names):
    "Whether the transaction holds its turn on each of names"
    turn = getattr(_turns, 'turn', None)
    return bool(names) and turn is not None and (
        turn.transaction is Transaction()
        and {lock_key(n) for n in names} <= turn.keys)
