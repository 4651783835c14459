# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Merge every duplicate member or customer into the one it duplicates, as
the Duplicates list in the web client shows them, with progress.

    python scripts/merge_duplicates.py --database omni_demo \\
        --reason "Legacy import" [--login admin] [--dry-run]
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def merge_duplicates(database, reason, login='admin', dry_run=False,
        out=sys.stdout):
    "Merge the duplicates of database as the user of login; return a count"
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    Pool.start()
    pool = Pool(database)
    pool.init()
    start = time.monotonic()
    with Transaction().start(database, 0) as transaction:
        User = pool.get('res.user')
        user, = User.search([('login', '=', login)])
        context = User.get_preferences(context_only=True)
    extras = {}
    while True:
        with Transaction().start(database, user.id, context=context,
                **extras) as transaction:
            Duplicate = pool.get('omni.member.duplicate')
            Merge = pool.get('omni.member.merge')
            duplicates = Duplicate.search([])
            if not extras:
                out.write(f"{len(duplicates)} duplicates to merge\n")

            def progress(done, total):
                if done % 100 == 0 or done == total:
                    out.write(f"  merged {done}/{total} "
                        f"({time.monotonic() - start:.1f} s)\n")
            if dry_run:
                break
            try:
                Merge.merge_duplicates(duplicates, reason=reason,
                    progress=progress)
            except TransactionError as e:
                # Take the locks the merge asks for from the start
                transaction.rollback()
                e.fix(extras)
                continue
            transaction.commit()
        break
    verb = "would be merged" if dry_run else "merged"
    out.write(f"{len(duplicates)} duplicates {verb} "
        f"in {time.monotonic() - start:.1f} s\n")
    return len(duplicates)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--database', '-d', required=True)
    parser.add_argument('--config', '-c', default=str(ROOT / 'trytond.conf'))
    parser.add_argument('--reason', required=True,
        help="kept on the audit record of each merge")
    parser.add_argument('--login', default='admin',
        help="the user the merges are recorded for (a manager)")
    parser.add_argument('--dry-run', action='store_true',
        help="count the duplicates, merge nothing")
    args = parser.parse_args(argv)
    os.environ.setdefault('TRYTOND_DATABASE__PATH', str(ROOT / 'var'))
    import trytond.config as config
    config.update_etc(args.config)
    merge_duplicates(args.database, args.reason, args.login, args.dry_run)
    return 0


if __name__ == '__main__':
    sys.exit(main())
