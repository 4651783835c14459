# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark the member lookup and merge against stock Tryton.

    python bench/members.py [--members 1000000] [--quick] [--lookups 2000]
        [--stock-lookups 500] [--pairs 1000] [--batch 100]
        [--rpc-pairs 100] [--wizard-pairs 50] [--keep]

A PostgreSQL database with a company in China is grown by SQL to --members
members (1,000,000; 100,000 with --quick), each with a mobile contact
mechanism, and are printed:

(1) the median and p95 of omni.member lookup(phone) of --lookups random
    members' mobiles typed in mixed formats ('138 0013 8000',
    '+86 138-0013-8000', '13800138000'), each in its own read-only
    transaction with the context the RPC gives; against stock Tryton finding
    the party by the mobile's E.164 form on --stock-lookups of them:
    party.party search on contact_mechanisms.value_compact (the ratio's
    reference) and party.contact_mechanism search on value_compact;

(2) the pairs per second of omni.member.merge merge_many on --pairs pairs of
    members with points and stored value lines, in committed transactions
    of --batch pairs whose parties are locked at the start; against stock
    Tryton's party.replace wizard alone on as many other pairs, its batches
    alternating with the merge's; and, restarted on the locks they ask for
    as the RPC dispatcher does, of the omni.member merge RPC (one pair per
    transaction, by member numbers) on --rpc-pairs pairs and of
    merge_duplicates on --wizard-pairs pairs in one transaction.

PostgreSQL is reached at TRYTOND_DATABASE__URI (default
postgresql://postgres@127.0.0.1:5432/).  The database bench_members is dropped
at the end (unless --keep); the activated database is cached under
var/db-cache-bench/<digest of the modules' source>.
"""
import argparse
import os
import random
import statistics
import time
from decimal import Decimal

DB_NAME = 'bench_members'

from benchenv import configure_environment, log, step  # noqa: E402

configure_environment(DB_NAME)

import phonenumbers  # noqa: E402

from proteus import Model  # noqa: E402
from proteus import config as proteus_config  # noqa: E402
from trytond.modules.company.tests.tools import (  # noqa: E402
    create_company, get_company)
from trytond.modules.currency.tests.tools import get_currency  # noqa: E402
from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import (  # noqa: E402
    activate_module, drop_db)
from trytond.transaction import Transaction, TransactionError  # noqa: E402

MODULES = ['omni_members']
MEMBERS = 1_000_000
QUICK_MEMBERS = 100_000
LOOKUPS = 2_000
STOCK_LOOKUPS = 500
WARM_UP = 20
PAIRS = 1_000
BATCH = 100
RPC_PAIRS = 100
WIZARD_PAIRS = 50
INSERT_BATCH = 100_000
REGION = 'CN'
# Member i has the mobile 138 followed by the 8 digits of i * STRIDE modulo
# 10^8: distinct for i < 10^8 (STRIDE is prime to 10) and spread out
STRIDE = 48_271
BASE = 13_800_000_000
SPAN = 100_000_000


class Bench:
    "The ids the benchmark runs on"
    company = None
    members = 0
    pairs = ()
    numbers = None

    @property
    def context(self):
        # As the RPC dispatcher runs a client's call
        return {'company': self.company, '_check_access': True}





def national(i):
    "Return the national mobile number of member i"
    return str(BASE + (i * STRIDE) % SPAN)


def parse_count(text):
    return int(text.replace('_', '').replace(',', ''))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0])
    parser.add_argument('--members', type=parse_count,
        help=f"members to look up among (default: {MEMBERS:,})")
    parser.add_argument('--quick', action='store_true',
        help=f"only {QUICK_MEMBERS:,} members")
    parser.add_argument('--lookups', type=parse_count, default=LOOKUPS,
        help="phones looked up, by each way (default: %(default)s)")
    parser.add_argument('--stock-lookups', type=parse_count,
        default=STOCK_LOOKUPS,
        help="phones of those also looked up the stock ways "
        "(default: %(default)s)")
    parser.add_argument('--pairs', type=parse_count, default=PAIRS,
        help="pairs merged, and as many replaced (default: %(default)s)")
    parser.add_argument('--batch', type=parse_count, default=BATCH,
        help="pairs per committed transaction (default: %(default)s)")
    parser.add_argument('--rpc-pairs', type=parse_count, default=RPC_PAIRS,
        help="pairs merged one per RPC (default: %(default)s)")
    parser.add_argument('--wizard-pairs', type=parse_count,
        default=WIZARD_PAIRS,
        help="pairs merged by merge_duplicates in one transaction "
        "(default: %(default)s)")
    parser.add_argument('--keep', action='store_true',
        help=f"keep the database {DB_NAME} at the end")
    args = parser.parse_args(argv)
    if not args.members:
        args.members = QUICK_MEMBERS if args.quick else MEMBERS
    return args


# Set-up

def create_database(bench):
    with step("Activate omni_members (cached after the first run)"):
        drop_db()
        activate_module(MODULES)
    with step("Create company in China"):
        proteus_config.set_trytond(database=DB_NAME)
        Country = Model.get('country.country')
        Party = Model.get('party.party')
        china = Country(name="China", code=REGION)
        china.save()
        company_party = Party(name="Youpin")
        company_party.addresses[0].country = china
        company_party.save()
        create_company(company_party, get_currency('CNY'))
        bench.company = get_company().id


# Members, inserted by SQL

# Members with their mobile contact mechanism
MEMBERS_INSERT = """
WITH member AS (
    INSERT INTO party_party (
            name, code, code_alnum, code_digit, active, marketing_consent,
            member_number, phone_key, member_since, create_uid, create_date)
        SELECT
            'Member ' || g, 'M' || lpad(g::text, 8, '0'),
            'M' || lpad(g::text, 8, '0'), g, true, false,
            'M' || lpad(g::text, 8, '0'),
            '+86' || (%(base)s::bigint
                + (g::bigint * %(stride)s::bigint) %% %(span)s::bigint)::text,
            CURRENT_DATE - (floor(random() * 1000))::int,
            0, CURRENT_TIMESTAMP
        FROM generate_series(%(first)s::int, %(last)s::int) AS g
        RETURNING id, phone_key)
INSERT INTO party_contact_mechanism (
        party, type, value, value_compact, active, sequence,
        invoice, delivery, create_uid, create_date)
    SELECT member.id, 'mobile', member.phone_key, member.phone_key, true, 10,
        false, false, 0, CURRENT_TIMESTAMP
    FROM member
"""

# A few lines of each ledger for each member of the pairs
POINTS_INSERT = """
INSERT INTO omni_member_points (
        member, date, kind, points, expires, reason, "user",
        create_uid, create_date)
    SELECT p.id, CURRENT_DATE - l.days, l.kind, l.points,
        CASE WHEN l.points > 0 THEN CURRENT_DATE + 365 END,
        NULL, 1, 0, CURRENT_TIMESTAMP
    FROM party_party AS p
    CROSS JOIN (VALUES (90, 'earn', 300), (60, 'earn', 120),
            (30, 'redeem', -100)) AS l (days, kind, points)
    WHERE p.id = ANY(%(members)s)
"""

STORED_VALUE_INSERT = """
INSERT INTO omni_member_stored_value (
        member, date, kind, amount, reason, "user", create_uid, create_date)
    SELECT p.id, CURRENT_DATE - l.days, l.kind, l.amount,
        NULL, 1, 0, CURRENT_TIMESTAMP
    FROM party_party AS p
    CROSS JOIN (VALUES (80, 'top_up', 200.00), (80, 'bonus', 20.00),
            (20, 'pay', -55.50)) AS l (days, kind, amount)
    WHERE p.id = ANY(%(members)s)
"""


def insert_members(cursor, first, last):
    "Insert members first..last with their mobile, by batches"
    total = last - first + 1
    for start in range(first, last + 1, INSERT_BATCH):
        end = min(start + INSERT_BATCH - 1, last)
        values = {'first': start, 'last': end,
            'base': BASE, 'stride': STRIDE, 'span': SPAN}
        cursor.execute(MEMBERS_INSERT, values)
        log(f"  members: {end - first + 1:,}/{total:,}")


def grow_members(bench, count, pairs):
    """Insert count members to look up, then the members of pairs pairs
    with their ledger lines; return the SQL times"""
    timings = {}
    with Transaction().start(DB_NAME, 0) as transaction:
        cursor = transaction.connection.cursor()
        cursor.execute("SELECT setseed(0.42)")
        with step(f"Insert {count:,} members and mobiles by SQL") as timer:
            insert_members(cursor, 1, count)
        timings['insert'] = timer['seconds']
        paired = 2 * pairs
        with step(f"Insert {pairs:,} pairs of members with points and "
                "stored value lines by SQL") as timer:
            insert_members(cursor, count + 1, count + paired)
            cursor.execute("SELECT id, member_number FROM party_party "
                "WHERE code LIKE 'M%%' AND code_digit > %s "
                "ORDER BY code_digit", (count,))
            bench.numbers = dict(cursor)
            ids = list(bench.numbers)
            cursor.execute(POINTS_INSERT, {'members': ids})
            cursor.execute(STORED_VALUE_INSERT, {'members': ids})
        timings['pairs'] = timer['seconds']
        with step("ANALYZE") as timer:
            for table in ['party_party', 'party_contact_mechanism',
                    'omni_member_points', 'omni_member_stored_value']:
                cursor.execute(f"ANALYZE {table}")
        timings['analyze'] = timer['seconds']
        transaction.commit()

        # Keep the member sequence beyond the numbers given here
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Sequence = pool.get('ir.sequence')
        sequence = Sequence(
            ModelData.get_id('omni_members', 'sequence_member'))
        Sequence.write([sequence], {'number_next': count + paired + 1})
    bench.members = count
    # (source, target) of each merge case in turn
    bench.pairs = list(zip(ids[0::2], ids[1::2]))
    return timings


# (1) Lookups

def typed(number, rng):
    "Return the national number typed as a cashier or a customer would"
    return rng.choice([
            f'{number[:3]} {number[3:7]} {number[7:]}',
            f'+86 {number[:3]}-{number[3:7]}-{number[7:]}',
            number,
            ])


def e164(phone):
    "The mobile's international form, as stock Tryton stores value_compact"
    return phonenumbers.format_number(phonenumbers.parse(phone, REGION),
        phonenumbers.PhoneNumberFormat.E164)


def member_lookup(phone):
    Member = Pool().get('omni.member')
    result = Member.lookup(phone)
    assert result, phone
    return result


def party_search(phone):
    "Stock Tryton: the party whose contact mechanism has the number"
    Party = Pool().get('party.party')
    parties = Party.search([
            ('contact_mechanisms.value_compact', '=', e164(phone)),
            ], limit=1)
    assert parties, phone
    return parties[0].name


def mechanism_search(phone):
    "Stock Tryton: the mobile contact mechanism of the number, and its party"
    ContactMechanism = Pool().get('party.contact_mechanism')
    mechanisms = ContactMechanism.search([
            ('value_compact', '=', e164(phone)),
            ('type', '=', 'mobile'),
            ], limit=1)
    assert mechanisms, phone
    return mechanisms[0].party.name


LOOKUP_CASES = {
    'member': ("omni.member lookup", member_lookup),
    'party': ("party.party search", party_search),
    'mechanism': ("party.contact_mechanism search", mechanism_search),
    }


def measure_lookups(bench, rng, count, stock_count):
    """Return {case: durations} of looking up count phones of random
    members, each in its own read-only transaction, by the member lookup;
    every (count / stock_count)th phone is also looked up the stock ways,
    the ways taking turns in rotating order"""
    phones = [typed(national(rng.randint(1, bench.members)), rng)
        for _ in range(WARM_UP + count)]
    stride = max(count // max(stock_count, 1), 1)
    durations = {key: [] for key in LOOKUP_CASES}
    for i, phone in enumerate(phones):
        done = i + 1 - WARM_UP
        keys = ['member']
        if stock_count and (done <= 0 or (
                    (done - 1) % stride == 0
                    and len(durations['party']) < stock_count)):
            keys = list(LOOKUP_CASES)
            keys = keys[i % len(keys):] + keys[:i % len(keys)]
        for key in keys:
            _, call = LOOKUP_CASES[key]
            with Transaction().start(
                    DB_NAME, 1, readonly=True, context=bench.context):
                start = time.monotonic()
                call(phone)
                duration = time.monotonic() - start
            if done > 0:
                durations[key].append(duration)
        if done > 0 and (done % 250 == 0 or done == count):
            log(f"  lookups: {done:,}/{count:,} "
                f"(stock ways: {len(durations['party']):,})")
    return durations


def percentiles(durations):
    ordered = sorted(durations)
    return {
        'median': statistics.median(ordered),
        'p95': ordered[int(0.95 * (len(ordered) - 1))],
        'mean': statistics.fmean(ordered),
        }


# (2) Merges

def dispatched(work, context, **extras):
    """Run work in a committed transaction as the RPC dispatcher does,
    restarting it with the locks it asks for; return (seconds, attempts)"""
    start = time.monotonic()
    attempts = 0
    while True:
        attempts += 1
        with Transaction().start(
                DB_NAME, 1, context=context, **extras) as transaction:
            try:
                work()
            except TransactionError as exception:
                transaction.rollback()
                exception.fix(extras)
                continue
        return time.monotonic() - start, attempts


def merge_pairs(pairs):
    "The bulk merge: all pairs of the batch in one pass"
    pool = Pool()
    Merge = pool.get('omni.member.merge')
    Party = pool.get('party.party')
    Merge.merge_many([(Party(s), Party(t)) for s, t in pairs],
        reason="Bench")


def replace_pairs(pairs):
    "Stock Tryton: the party.replace wizard, as Merge runs it"
    pool = Pool()
    Party = pool.get('party.party')
    Replace = pool.get('party.replace', type='wizard')
    for source, target in pairs:
        session_id, _, _ = Replace.create()
        replace = Replace(session_id)
        replace.ask.source = Party(source)
        replace.ask.destination = Party(target)
        with Transaction().set_context(_skip_warnings=True):
            replace.transition_replace()
        Replace.delete(session_id)


def merge_numbers(source, target):
    "The omni.member merge RPC of the members' numbers"
    Member = Pool().get('omni.member')
    Member.merge(source, target, reason="Bench")


class Duplicate:
    "Stands for an omni.member.duplicate record"

    def __init__(self, party, target):
        self.party, self.target = party, target


def merge_duplicates(pairs):
    "The merge of the Merge Duplicates wizard"
    pool = Pool()
    Merge = pool.get('omni.member.merge')
    Party = pool.get('party.party')
    Merge.merge_duplicates(
        [Duplicate(Party(s), Party(t)) for s, t in pairs], reason="Bench")


MERGE_CASES = {
    'merge': "omni.member.merge merge_many",
    'replace': "party.replace wizard (stock)",
    'rpc': "omni.member merge RPC",
    'wizard': "merge_duplicates",
    }


def share_pairs(bench, args):
    "Return the pairs of each merge case"
    sizes = {'merge': args.pairs, 'replace': args.pairs,
        'rpc': args.rpc_pairs, 'wizard': args.wizard_pairs}
    shares, start = {}, 0
    for key in MERGE_CASES:
        shares[key] = bench.pairs[start:start + sizes[key]]
        start += sizes[key]
    return shares


def measure_merges(bench, args):
    """Return {case: (durations, attempts)}:
    merge and replace: each batch of pairs in its own committed transaction,
    the merge's and the replacement's alternating; the merge's transaction
    starts with the batch's parties locked, as the dispatcher restarts it,
    so it runs once;
    rpc: the omni.member merge RPC of each pair by its numbers, in its own
    transaction restarted as the dispatcher does;
    wizard: Merge.merge_duplicates of all its pairs in one transaction
    restarted as the dispatcher does (the Merge Duplicates wizard)"""
    shares = share_pairs(bench, args)
    results = {key: ([], []) for key in MERGE_CASES}
    batch = args.batch
    for start in range(0, args.pairs, batch):
        chunk = shares['merge'][start:start + batch]
        locks = {'party_party': sorted({i for p in chunk for i in p})}
        for key, work, extras in [
                ('merge', lambda: merge_pairs(chunk),
                    {'_lock_records': locks}),
                ('replace', lambda: replace_pairs(
                        shares['replace'][start:start + batch]), {})]:
            seconds, attempts = dispatched(work, bench.context, **extras)
            results[key][0].append(seconds)
            results[key][1].append(attempts)
        log(f"  pairs: {min(start + batch, args.pairs):,}/{args.pairs:,} "
            "merged and replaced")
    for i, (source, target) in enumerate(shares['rpc'], 1):
        seconds, attempts = dispatched(
            lambda: merge_numbers(bench.numbers[source],
                bench.numbers[target]), bench.context)
        results['rpc'][0].append(seconds)
        results['rpc'][1].append(attempts)
        if i % 100 == 0 or i == len(shares['rpc']):
            log(f"  RPC merges: {i:,}/{len(shares['rpc']):,}")
    if shares['wizard']:
        log(f"  merge_duplicates of {len(shares['wizard'])} pairs in one "
            "transaction...")
        seconds, attempts = dispatched(
            lambda: merge_duplicates(shares['wizard']), bench.context)
        results['wizard'][0].append(seconds)
        results['wizard'][1].append(attempts)
    return results


def check_merges(bench, args):
    """Return the problems found after the merges: every source inactive,
    replaced by its target, with no ledger line left; every target holding
    both members' lines; one merge record per pair with the sums"""
    problems = []
    shares = share_pairs(bench, args)
    merged = [p for key in ['merge', 'rpc', 'wizard'] for p in shares[key]]
    pairs = len(merged)
    with Transaction().start(DB_NAME, 0, readonly=True) as transaction:
        cursor = transaction.connection.cursor()
        sources = [s for s, _ in merged]
        targets = [t for _, t in merged]
        cursor.execute("SELECT count(*) FROM party_party "
            "WHERE id = ANY(%s) AND (active OR replaced_by IS NULL)",
            (sources,))
        if count := cursor.fetchone()[0]:
            problems.append(f"{count} sources still active or not replaced")
        for table, value, expected in [
                ('omni_member_points', 'points', 2 * 320),
                ('omni_member_stored_value', 'amount',
                    2 * Decimal('164.50'))]:
            cursor.execute(f"SELECT count(*) FROM {table} "
                "WHERE member = ANY(%s)", (sources,))
            if count := cursor.fetchone()[0]:
                problems.append(f"{count} {table} lines left on sources")
            cursor.execute(f"SELECT count(*) FROM ("
                f"SELECT member FROM {table} WHERE member = ANY(%s) "
                f"GROUP BY member HAVING sum({value}) != %s "
                f"OR count(*) != 6) AS w", (targets, expected))
            if count := cursor.fetchone()[0]:
                problems.append(f"{count} targets with wrong {table}")
        cursor.execute("SELECT count(*), count(DISTINCT source), "
            "sum(points), sum(balance) FROM omni_member_merge")
        count, distinct, points, balance = cursor.fetchone()
        if (count, distinct) != (pairs, pairs):
            problems.append(f"{count} merge records of {distinct} sources "
                f"for {pairs} pairs")
        if points != pairs * 2 * 320 or balance != pairs * 2 * Decimal(
                '164.50'):
            problems.append(
                f"merge records sum {points} points, {balance} stored value")
    return problems


# Report

def print_report(bench, args, timings, lookups, merges, problems, total):
    log()
    log("=" * 78)
    log(f"Members: {bench.members:,} members with a mobile, company in "
        f"China; PostgreSQL, in-process")
    log()
    log("(1) Lookup by phone: random members' mobiles typed in mixed "
        "formats, each way in its own read-only transaction (ms)")
    header = (f"{'members':>10}  {'way':<32}{'n':>6}{'median':>8}{'p95':>8}"
        f"{'mean':>8}{'ratio':>8}")
    log(header)
    log('-' * len(header))
    reference = percentiles(lookups['member'])['median']
    for key, (label, _) in LOOKUP_CASES.items():
        if not lookups[key]:
            continue
        figures = percentiles(lookups[key])
        log(f"{bench.members:>10,}  {label:<32}{len(lookups[key]):>6,}"
            f"{figures['median'] * 1000:>8.2f}{figures['p95'] * 1000:>8.2f}"
            f"{figures['mean'] * 1000:>8.2f}"
            f"{figures['median'] / reference:>7.1f}x")
    member = percentiles(lookups['member'])['median'] * 1000
    log("ratio = median / omni.member lookup's median (how many times "
        "slower the stock way is); stock Tryton is the party.party search "
        "on contact_mechanisms.value_compact")
    log(f"target: lookup median <= 2 ms: "
        f"{'met' if member <= 2 else 'MISSED'} ({member:.2f} ms)")
    log()
    log("(2) Merge: pairs of members with 3 points and 3 stored value "
        "lines each; committed transactions; time includes restarts and "
        "commit")
    header = (f"{'way':<32}{'pairs':>6}{'per tx':>7}{'attempts':>9}"
        f"{'total s':>9}{'pairs/s':>9}{'ms/pair':>9}{'vs stock':>9}")
    log(header)
    log('-' * len(header))
    shares = share_pairs(bench, args)
    per_pair = {key: sum(merges[key][0]) / len(shares[key])
        for key in MERGE_CASES if shares[key]}
    for key, label in MERGE_CASES.items():
        durations, attempts = merges[key]
        pairs = len(shares[key])
        if not pairs:
            continue
        seconds = sum(durations)
        per_tx = {'merge': args.batch, 'replace': args.batch, 'rpc': 1,
            'wizard': pairs}[key]
        log(f"{label:<32}{pairs:>6,}{per_tx:>7,}{sum(attempts):>9,}"
            f"{seconds:>9.2f}{pairs / seconds:>9.1f}"
            f"{per_pair[key] * 1000:>9.1f}"
            f"{per_pair[key] / per_pair['replace']:>8.1f}x")
    log("vs stock = ms/pair / party.replace wizard's ms/pair (how many "
        "times slower than stock Tryton's replace alone);")
    log("merge: the batch's parties locked at the start (1 attempt per "
        "batch); rpc and merge_duplicates: restarted on Party.lock as the "
        "dispatcher does")
    log("Check of the merges: " + ('; '.join(problems) or "ok"))
    log()
    log(f"Set-up: SQL insert of {bench.members:,} members "
        f"{timings['insert']:.1f} s, of the pairs {timings['pairs']:.1f} s, "
        f"ANALYZE {timings['analyze']:.1f} s")
    log("Load average (1, 5, 15 min) at the end: "
        + ', '.join(f'{l:.1f}' for l in os.getloadavg())
        + f" on {os.cpu_count()} CPUs")
    log(f"Total run time: {total:.0f} s")


def run(args):
    bench = Bench()
    rng = random.Random(42)
    create_database(bench)
    timings = grow_members(bench, args.members,
        2 * args.pairs + args.rpc_pairs + args.wizard_pairs)
    with step(f"(1) Look up {args.lookups:,} phones, {args.stock_lookups:,} "
            "of them the stock ways too"):
        lookups = measure_lookups(
            bench, rng, args.lookups, args.stock_lookups)
    with step(f"(2) Merge {args.pairs:,} pairs, replace {args.pairs:,} "
            f"others, merge {args.rpc_pairs:,} by RPC and "
            f"{args.wizard_pairs:,} by merge_duplicates"):
        merges = measure_merges(bench, args)
    problems = check_merges(bench, args)
    return bench, timings, lookups, merges, problems


def main(argv=None):
    args = parse_args(argv)
    log(f"{args.members:,} members, {args.lookups:,} lookups, "
        f"{args.pairs:,} pairs by {args.batch}; database {DB_NAME}; "
        f"cache {os.environ['DB_CACHE']}")
    start = time.monotonic()
    try:
        bench, timings, lookups, merges, problems = run(args)
    finally:
        if not args.keep:
            drop_db()
    print_report(bench, args, timings, lookups, merges, problems,
        time.monotonic() - start)


if __name__ == '__main__':
    main()
