# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The cashier page (收银台), served by the Tryton server itself: static files
of the `cashier` folder; the page talks JSON-RPC to `omni.till` with the
cashier's own login."""
import json
import mimetypes
from http import HTTPStatus
from pathlib import Path

from trytond.protocols.wrappers import (
    Response, redirect, with_pool, with_transaction)
from trytond.wsgi import app

FOLDER = Path(__file__).parent / 'cashier'
# The page's texts are the messages of this prefix, translated in the .po
TEXT_PREFIX = 'msg_cashier_'


@app.route('/<database_name>/omni/pos', methods=['GET'])
def cashier_root(request, database_name):
    return redirect(f'/{database_name}/omni/pos/')


@app.route('/<database_name>/omni/pos/texts', methods=['GET'])
@with_pool
@with_transaction(readonly=True)
def cashier_texts(request, pool):
    """The page's texts in the language asked for (English for a language
    the database does not have), as {key: text} with %(name)s variables;
    before any login, as the login screen needs them"""
    Lang = pool.get('ir.lang')
    Message = pool.get('ir.message')
    ModelData = pool.get('ir.model.data')
    language = request.args.get('language', 'en')
    if not Lang.search([('code', '=', language), ('translatable', '=', True)]):
        language = 'en'
    messages = ModelData.search([
            ('module', '=', 'omni_o2o'),
            ('model', '=', 'ir.message'),
            ('fs_id', 'like', TEXT_PREFIX + '%'),
            ])
    texts = {m.fs_id[len(TEXT_PREFIX):]: Message.gettext(
            'omni_o2o', m.fs_id, language) for m in messages}
    return Response(json.dumps(texts, ensure_ascii=False),
        content_type='application/json; charset=utf-8')


@app.route('/<database_name>/omni/pos/', methods=['GET'])
@app.route('/<database_name>/omni/pos/<path:name>', methods=['GET'])
def cashier_page(request, database_name, name='index.html'):
    path = (FOLDER / name).resolve()
    if FOLDER.resolve() not in path.parents or not path.is_file():
        return Response("Not Found", status=HTTPStatus.NOT_FOUND,
            content_type='text/plain')
    content_type = mimetypes.guess_type(path.name)[0] or 'text/plain'
    if content_type.startswith('text/') or content_type.endswith(
            'javascript'):
        content_type += '; charset=utf-8'
    response = Response(path.read_bytes(), content_type=content_type)
    # The page is small: always the current one after an upgrade
    response.headers['Cache-Control'] = 'no-cache'
    return response
