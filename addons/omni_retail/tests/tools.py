# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import importlib
import os

import polib

from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction


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
        sources = polib.pofile(
            Translation.translation_export('en', self.module).decode())
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
                self.assertFalse(missing,
                    msg=f"Untranslated in {path}:\n\n" + '\n'.join(
                        str(e) for e in missing))
