# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Compare the stock levels with stock Tryton's own computation from the
moves, and repair drift on request.

    python scripts/reconcile.py --database omni_demo [--repair]

Run it once with --repair after activating omni_retail on a database that
already had stock moves: that fills the levels.  A daily cron does the same.
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def reconcile(database, repair=False, out=sys.stdout):
    "Return the drifts found (and repaired) in database"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool.start()
    pool = Pool(database)
    pool.init()
    start = time.monotonic()
    with Transaction().start(database, 0) as transaction:
        Level = pool.get('omni.stock.level')
        Product = pool.get('product.product')
        Location = pool.get('stock.location')
        out.write("Comparing stock levels with the stock moves...\n")
        drifts = Level.reconcile(repair=repair)
        for (product, warehouse), mine, theirs in drifts:
            out.write(f"  {Product(product).rec_name} @ "
                f"{Location(warehouse).rec_name}: level on hand/reserved "
                f"{mine[0]:g}/{mine[1]:g}, moves {theirs[0]:g}/{theirs[1]:g}\n")
        if repair:
            transaction.commit()
    verb = "repaired" if repair else "found"
    out.write(f"{len(drifts)} drifted levels {verb} "
        f"in {time.monotonic() - start:.1f} s\n")
    return drifts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--database', '-d', required=True)
    parser.add_argument('--config', '-c', default=str(ROOT / 'trytond.conf'))
    parser.add_argument('--repair', action='store_true',
        help="set the drifted levels to the quantities of the moves")
    args = parser.parse_args(argv)
    os.environ.setdefault('TRYTOND_DATABASE__PATH', str(ROOT / 'var'))
    import trytond.config as config
    config.update_etc(args.config)
    drifts = reconcile(args.database, args.repair)
    return 1 if drifts and not args.repair else 0


if __name__ == '__main__':
    sys.exit(main())
