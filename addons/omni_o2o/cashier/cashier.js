// This file is part of omni-retail.  The COPYRIGHT file at the top level of
// this repository contains the full copyright notices and license terms.
//
// The cashier page: one screen to ring up a sale at the till of the
// cashier's store.  Every price, discount and total is the server's
// (omni.till over JSON-RPC); the page only shows them and sends the
// cashier's actions.  The sale in progress lives on the server, so a reload
// or a lost network loses nothing.
(function () {
  'use strict';

  const DATABASE = decodeURIComponent(location.pathname.split('/')[1]);
  const SESSION_KEY = `omni-cashier-${DATABASE}`;
  const state = {
    session: JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'),
    language: navigator.language && navigator.language.startsWith('en')
      ? 'en' : 'zh_CN',
    // The page's texts in its language, from the modules' translations
    texts: {},
    context: {},
    till: null,
    sale: null,
    done: null,
    found: [],
    message: null,
    timings: [],
  };
  // The browser test reads the timings of the calls
  window.omniCashier = state;

  class CashierError extends Error {}

  function t(key, args) {
    let text = state.texts[key] || key;
    for (const [name, value] of Object.entries(args || {})) {
      text = text.replace(`%(${name})s`, value);
    }
    return text;
  }

  async function loadTexts() {
    const response = await fetch(`/${encodeURIComponent(DATABASE)}`
      + `/omni/pos/texts?language=${encodeURIComponent(state.language)}`);
    if (!response.ok) {
      throw new CashierError(t('server_error', { status: response.status }));
    }
    state.texts = await response.json();
  }

  function esc(value) {
    return String(value === null || value === undefined ? '' : value)
      .replace(/[&<>"']/g, (c) => ({
        '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
      }[c]));
  }

  function money(value) {
    const symbol = state.till ? state.till.currency.symbol : '';
    return `${symbol}${value}`;
  }

  function errorMessage(error) {
    // Tryton user errors come as [name, [message, description, …]]
    if (Array.isArray(error) && Array.isArray(error[1])
        && typeof error[1][0] === 'string') {
      return error[1][0];
    }
    if (Array.isArray(error) && error[0] === 'LoginException') {
      return error[1][1];
    }
    return t('server_error', { status: 500 });
  }

  async function rpc(method, params) {
    const headers = { 'Content-Type': 'application/json' };
    if (state.session) {
      const { login, userId, key } = state.session;
      headers.Authorization = 'Session ' + btoa(unescape(encodeURIComponent(
        `${login}:${userId}:${key}`)));
    }
    let response;
    try {
      response = await fetch(`/${encodeURIComponent(DATABASE)}/rpc/`, {
        method: 'POST', headers,
        body: JSON.stringify({ id: Date.now(), method, params }),
      });
    } catch (e) {
      throw new CashierError(t('network'));
    }
    if (response.status === 401 || response.status === 403) {
      forget();
      throw new CashierError(t('session_expired'));
    }
    if (!response.ok) {
      throw new CashierError(t('server_error', { status: response.status }));
    }
    const data = await response.json();
    if (data.error) {
      throw new CashierError(errorMessage(data.error));
    }
    return data.result;
  }

  // Call a method of omni.till with the cashier's context, timed
  async function till(method, ...args) {
    const start = performance.now();
    try {
      return await rpc(`model.omni.till.${method}`, [...args, state.context]);
    } finally {
      state.timings.push({ method, ms: performance.now() - start });
    }
  }

  function forget() {
    state.session = null;
    sessionStorage.removeItem(SESSION_KEY);
  }

  // Run an action of the cashier: show its error, never lose the screen
  async function act(action) {
    document.body.dataset.busy = '';
    try {
      state.message = null;
      await action();
    } catch (e) {
      state.message = { kind: 'error', text: e instanceof CashierError
        ? e.message : t('server_error', { status: '?' }) };
      if (!(e instanceof CashierError)) console.error(e);
    }
    render();
    delete document.body.dataset.busy;
  }

  async function logIn(login, password) {
    const [userId, key] = await rpc('common.db.login',
      [login, { password }, state.language]);
    state.session = { login, userId, key };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
    await start();
  }

  async function start() {
    state.context = await rpc('model.res.user.get_preferences', [true, {}]);
    const chosen = sessionStorage.getItem(`${SESSION_KEY}-language`);
    if (chosen) {
      state.language = chosen;
    } else if (state.context.language) {
      state.language = state.context.language.startsWith('zh')
        ? 'zh_CN' : 'en';
    }
    state.context.language = state.language;
    await loadTexts();
    state.till = await till('start');
    state.sale = state.till.sale;
    document.title = `${t('title')} · ${state.till.store.name}`;
  }

  async function scan(code) {
    const sale = await till('add', state.sale ? state.sale.id : null, code, 1);
    state.sale = sale;
    state.done = null;
    state.found = [];
  }

  // -- screens ------------------------------------------------------------

  function render() {
    const app = document.getElementById('app');
    if (!state.session || !state.till) {
      app.innerHTML = loginScreen();
    } else {
      app.innerHTML = header() + `<main><section>${message()}${scanner()}`
        + `${lines()}</section><section>${memberBox()}${totals()}`
        + `${payment()}</section></main>`;
    }
    bind(app);
    const focus = app.querySelector('[autofocus]');
    if (focus) focus.focus();
  }

  function message() {
    return state.message ? `<div class="message ${state.message.kind}" ` +
      `role="alert">${esc(state.message.text)}</div>` : '';
  }

  function loginScreen() {
    return `<form class="login" data-form="login"><h1>${t('title')}</h1>`
      + message()
      + `<div class="row"><label>${t('user')}<input name="login" `
      + `autocomplete="username" autofocus></label></div>`
      + `<div class="row"><label>${t('password')}<input name="password" `
      + `type="password" autocomplete="current-password"></label></div>`
      + `<button type="submit">${t('login')}</button></form>`;
  }

  function header() {
    const { store, till: point, cashier, session } = state.till;
    const drawer = session
      ? `<span>${t('expected')}: ${money(session.expected)}</span>`
        + '<form data-form="close" class="row" style="margin:0">'
        + `<input name="counted" inputmode="decimal" placeholder="${t('counted')}" `
        + 'style="width:140px">'
        + `<button type="submit">${t('close_session')}</button></form>`
      : `<span>${t('no_session')}</span>`
        + `<button data-action="open-session">${t('open_session')}</button>`;
    return `<header><strong>${esc(store.name)}</strong>`
      + `<span>${esc(point)}</span><span>${esc(cashier)}</span>`
      + `<span class="grow"></span>${drawer}`
      + `<button data-action="language">${state.language === 'en' ? '中文' : 'EN'}</button>`
      + `<button data-action="logout">${t('logout')}</button></header>`;
  }

  function scanner() {
    const found = state.found.map((p) => `<button data-action="pick" `
      + `data-code="${esc(p.code)}">${esc(p.code)} · ${esc(p.name)} · `
      + `${money(p.price)}</button>`).join('');
    return '<form class="row" data-form="scan">'
      + `<input name="code" placeholder="${t('scan')}" autocomplete="off" `
      + 'autofocus></form><form class="row" data-form="search">'
      + `<input name="text" placeholder="${t('search')}" autocomplete="off">`
      + `<button type="submit">${t('find')}</button></form>`
      + `<div class="found">${found}</div>`;
  }

  function lines() {
    const sale = state.done || state.sale;
    if (!sale || !sale.lines.length) {
      return `<p class="empty">${t('empty')}</p>`;
    }
    const open = sale.state === 'open';
    const rows = sale.lines.map((line) => {
      const was = line.list_price !== line.unit_price
        ? `<span class="was">${money(line.list_price)}</span>` : '';
      const quantity = open
        ? `<div class="qty"><button class="secondary" data-action="less" `
          + `data-line="${line.id}" aria-label="-">−</button>`
          + `<span>${line.quantity}</span><button class="secondary" `
          + `data-action="more" data-line="${line.id}" aria-label="+">+</button>`
          + `<button class="danger" data-action="remove" data-line="${line.id}">`
          + `${t('remove')}</button></div>`
        : line.quantity;
      return `<tr data-code="${esc(line.code)}"><td>${esc(line.code)} `
        + `${esc(line.name)}</td><td>${quantity}</td>`
        + `<td class="num">${money(line.unit_price)}${was}</td>`
        + `<td class="num">${money(line.amount)}</td></tr>`;
    }).join('');
    return `<table class="lines"><thead><tr><th>${t('product')}</th>`
      + `<th>${t('quantity')}</th><th class="num">${t('price')}</th>`
      + `<th class="num">${t('amount')}</th></tr></thead>`
      + `<tbody>${rows}</tbody></table>`;
  }

  function memberBox() {
    const sale = state.done || state.sale;
    const member = sale && sale.member;
    const shown = member
      ? `<div class="member" data-member="${esc(member.number)}">`
        + `<strong>${esc(member.phone)}</strong> · ${esc(member.number)}<br>`
        + `${t('level')}: ${esc(member.level || '-')} · ${t('points')}: `
        + `${esc(member.points)} · ${t('balance')}: ${money(member.balance)}</div>`
      : `<div class="member">${t('no_member')}</div>`;
    if (sale && sale.state !== 'open') return shown;
    return shown + '<form class="row" data-form="member">'
      + `<input name="phone" inputmode="tel" placeholder="${t('phone')}">`
      + `<button type="submit">${t('find')}</button></form>`
      + '<form class="row" data-form="register">'
      + `<input name="name" placeholder="${t('name')}">`
      + `<button type="submit" class="secondary">${t('register')}</button></form>`
      // The till takes coupons when omni_coupon is activated
      + (state.till.coupons ? '<form class="row" data-form="coupon">'
        + `<input name="code" placeholder="${t('coupon')}" autocomplete="off">`
        + `<button type="submit" class="secondary">${t('apply')}</button></form>`
        : '');
  }

  function totals() {
    const sale = state.done || state.sale;
    if (!sale) return `<div class="total">${money('0.00')}</div>`;
    const coupons = sale.coupons.map((c) => `<div>${t('coupon')} `
      + `${esc(c.code)}: −${money(c.discount)}</div>`).join('');
    return `${coupons}<div class="total" data-total="${esc(sale.total)}">`
      + `${money(sale.total)}</div><div class="due">${t('to_pay')}: `
      + `<strong data-to-pay="${esc(sale.to_pay)}">${money(sale.to_pay)}`
      + '</strong></div>';
  }

  function payment() {
    if (state.done) {
      return `<div class="done"><p class="message info">${t('sale_done',
        { number: esc(state.done.number) })}</p>`
        + `<p>${t('change')}: <strong data-change="${esc(state.done.change)}">`
        + `${money(state.done.change)}</strong></p>`
        + `<div class="row"><button data-action="print">${t('print')} `
        + `${t('receipt_width')}</button><button class="secondary" `
        + `data-action="print-narrow">${t('narrow')}</button></div>`
        + `<button data-action="new">${t('new_sale')}</button></div>`;
    }
    const sale = state.sale;
    if (!sale || !sale.lines.length) return '';
    const methods = state.till.methods.map((m) => `<button `
      + `data-action="pay" data-method="${m.id}" data-kind="${m.kind}">`
      + `${esc(m.name)}</button>`).join('');
    return '<div class="row"><label style="flex:1">'
      + `${t('pay_amount')}<input name="amount" inputmode="decimal" `
      + `value="${esc(sale.to_pay)}"></label></div>`
      + `<div class="methods">${methods}</div><p>`
      + `<button class="danger" data-action="cancel">${t('cancel_sale')}`
      + '</button></p>';
  }

  // -- actions --------------------------------------------------------------

  const forms = {
    login: (data) => logIn(data.login, data.password),
    scan: (data) => data.code.trim() && scan(data.code.trim()),
    search: async (data) => {
      state.found = await till('find_products', data.text);
    },
    member: async (data) => {
      state.sale = await till('set_member', await saleId(), data.phone);
    },
    register: async (data) => {
      const phone = document.querySelector('[data-form="member"] [name="phone"]');
      state.sale = await till('register_member', await saleId(),
        phone ? phone.value : '', data.name || null);
    },
    coupon: async (data) => {
      state.sale = await till('redeem', await saleId(), data.code);
    },
    close: async (data) => {
      const closed = await till('close_session', data.counted);
      state.till.session = null;
      state.message = { kind: 'info', text: `${t('session_closed')}: `
        + `${t('expected')} ${money(closed.expected)}` };
    },
  };

  async function saleId() {
    if (!state.sale) {
      state.sale = await till('new');
    }
    return state.sale.id;
  }

  function lineQuantity(id) {
    return state.sale.lines.find((l) => l.id === id).quantity;
  }

  const actions = {
    'open-session': async () => {
      state.till.session = await till('open_session');
    },
    logout: async () => {
      forget();
      state.till = null;
      state.sale = null;
    },
    language: async () => {
      // The server's messages follow the page's language
      state.language = state.language === 'en' ? 'zh_CN' : 'en';
      state.context = { ...state.context, language: state.language };
      sessionStorage.setItem(`${SESSION_KEY}-language`, state.language);
      await loadTexts();
    },
    pick: (button) => scan(button.dataset.code),
    more: async (button) => {
      const id = Number(button.dataset.line);
      state.sale = await till('set_quantity', state.sale.id, id,
        lineQuantity(id) + 1);
    },
    less: async (button) => {
      const id = Number(button.dataset.line);
      state.sale = await till('set_quantity', state.sale.id, id,
        Math.max(lineQuantity(id) - 1, 0));
    },
    remove: async (button) => {
      state.sale = await till('set_quantity', state.sale.id,
        Number(button.dataset.line), 0);
    },
    pay: async (button) => {
      const amount = document.querySelector('[name="amount"]').value;
      const sale = await till('pay', state.sale.id,
        Number(button.dataset.method), amount);
      if (sale.state === 'done') {
        state.done = sale;
        state.sale = null;
        state.till.session = sale.session;
      } else {
        state.sale = sale;
      }
    },
    cancel: async () => {
      await till('cancel', state.sale.id);
      state.sale = null;
    },
    print: async () => printReceipt(false),
    'print-narrow': async () => printReceipt(true),
    new: async () => {
      state.done = null;
    },
  };

  function bind(root) {
    root.querySelectorAll('form[data-form]').forEach((form) => {
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const data = Object.fromEntries(new FormData(form).entries());
        act(() => forms[form.dataset.form](data));
      });
    });
    root.querySelectorAll('[data-action]').forEach((button) => {
      button.addEventListener('click', () => act(
        () => actions[button.dataset.action](button)));
    });
  }

  // -- receipt --------------------------------------------------------------

  function receiptHtml(sale) {
    const rows = sale.lines.map((l) => `<tr><td colspan="2">${esc(l.name)}</td>`
      + `</tr><tr><td>${l.quantity} × ${esc(l.unit_price)}</td>`
      + `<td class="num">${esc(l.amount)}</td></tr>`).join('');
    const discounts = sale.coupons.map((c) => `<tr><td>${t('discount')} `
      + `${esc(c.code)}</td><td class="num">-${esc(c.discount)}</td></tr>`)
      .join('');
    const payments = sale.payments.map((p) => `<tr><td>${esc(p.method)}</td>`
      + `<td class="num">${esc(p.amount)}</td></tr>`).join('');
    const member = sale.member ? `<hr><table><tr><td>${t('member')}</td>`
      + `<td class="num">${esc(sale.member.phone)}</td></tr>`
      + `<tr><td>${t('points_earned')}</td><td class="num">`
      + `${sale.points_earned}</td></tr><tr><td>${t('points')}</td>`
      + `<td class="num">${esc(sale.member.points)}</td></tr>`
      + `<tr><td>${t('balance')}</td><td class="num">`
      + `${esc(sale.member.balance)}</td></tr></table>` : '';
    return `<h2>${esc(sale.store)}</h2><table>`
      + `<tr><td>${t('sale')}</td><td class="num">${esc(sale.number)}</td></tr>`
      + `<tr><td>${t('date')}</td><td class="num">${esc(sale.date)}</td></tr>`
      + `<tr><td>${t('cashier')}</td><td class="num">${esc(sale.cashier)}`
      + `</td></tr></table><hr><table>${rows}${discounts}</table><hr>`
      + `<table><tr><td><strong>${t('total')}</strong></td><td class="num">`
      + `<strong>${esc(sale.total)}</strong></td></tr>${payments}`
      + `<tr><td>${t('change')}</td><td class="num">${esc(sale.change)}</td>`
      + `</tr></table>${member}<svg id="receipt-barcode"></svg>`
      + `<p style="text-align:center">${t('thanks')}</p>`;
  }

  function printReceipt(narrow) {
    const receipt = document.getElementById('receipt');
    receipt.className = narrow ? 'receipt narrow' : 'receipt';
    receipt.innerHTML = receiptHtml(state.done);
    if (window.JsBarcode) {
      window.JsBarcode('#receipt-barcode', state.done.number, {
        format: 'CODE128', height: 40, width: 1.4, fontSize: 12 });
    }
    window.print();
  }

  // Keep the scanner's field focused: a scan may come at any moment
  document.addEventListener('keydown', (event) => {
    const active = document.activeElement;
    if (active && ['INPUT', 'BUTTON'].includes(active.tagName)) return;
    const field = document.querySelector('[data-form="scan"] input');
    if (field) field.focus();
  });

  window.addEventListener('online', () => {
    if (state.message && state.message.text === t('network')) {
      act(async () => { state.sale = state.sale && await till('sale', state.sale.id); });
    }
  });

  (async () => {
    await act(loadTexts);
    if (state.session) {
      await act(start);
      if (!state.till) forget();
    }
    render();
  })();
}());
