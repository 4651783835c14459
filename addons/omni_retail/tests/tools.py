# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import importlib
import io
import os
import unittest

import polib

from trytond.pool import Pool
from trytond.tests.test_tryton import load_doc_tests, with_transaction


class TranslationTestMixin:
    "Every user-facing string of the module has a translation"
    translation_languages = ['zh_CN']

    @with_transaction()
    def test_translations_complete(self):
        "Every label, message, menu and view string is translated"
        pool = Pool()
        Translation = pool.get('ir.translation')
        TranslationSet = pool.get('ir.translation.set', type='wizard')

        session_id, _, _ = TranslationSet.create()
        TranslationSet(session_id).set_view()
        exported = Translation.translation_export('en', self.module)
        sources = polib.pofile(exported.decode()) if exported else []
        directory = os.path.dirname(
            importlib.import_module(self.module).__file__)
        for lang in self.translation_languages:
            with self.subTest(lang=lang):
                path = os.path.join(directory, 'locale', f'{lang}.po')
                translated = {
                    (e.msgctxt, e.msgid) for e in polib.pofile(path)
                    if e.msgstr and not e.fuzzy and not e.obsolete}
                missing = [e for e in sources
                    if (e.msgctxt, e.msgid) not in translated]
                if missing:
                    self.fail(f"Untranslated in {path}:\n\n" + '\n'.join(
                            str(e) for e in missing))


def scenarios(test_file):
    "Return the scenario files beside test_file"
    directory = os.path.dirname(test_file)
    return sorted(f for f in os.listdir(directory) if f.endswith('.rst'))


def run_scenario(test_name, test_file, scenario):
    "Run one scenario doctest with Tryton's set-up; fail with its report"
    loader = unittest.TestLoader()
    loader.testNamePatterns = [scenario]
    suite = load_doc_tests(
        test_name, test_file, loader, unittest.TestSuite(), None)
    stream = io.StringIO()
    result = unittest.TextTestRunner(stream=stream).run(suite)
    if not result.testsRun or not result.wasSuccessful():
        raise AssertionError(stream.getvalue())
