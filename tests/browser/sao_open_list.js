// Log into the Tryton web client (sao) in headless Chromium and open a list
// through the menu.  Prints one JSON line:
//   {"title", "rows": [{column title: cell text}], "errors": [page errors]}
//   env: SAO_URL SAO_DB SAO_USER SAO_PASS SAO_MENU ("Parent/Child") SAO_SHOT
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const BASE = process.env.SAO_URL || 'http://127.0.0.1:8010/';
const DB = process.env.SAO_DB || 'omni_demo';
const USER = process.env.SAO_USER;
const PASS = process.env.SAO_PASS;
const MENU = (process.env.SAO_MENU || 'Omni Retail/Channels').split('/');
const SHOT = process.env.SAO_SHOT || 'sao.png';

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sao-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  context.setDefaultTimeout(30000);
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // sao sends every call through jQuery.ajax: idle when none is pending
  const idle = () => page.waitForFunction(() => window.jQuery &&
    jQuery.active <= (window.Sao && Sao.Bus && Sao.Bus.listening ? 1 : 0));
  try {
    await page.goto(BASE);
    const dialog = page.locator('.login-dialog');
    await dialog.locator('#login').waitFor({ state: 'visible' });
    // a <select> with several databases, a read-only <input> with one
    const database = dialog.locator('#database:visible');
    await database.waitFor({ state: 'visible' });
    if (await database.evaluate((e) => e.tagName === 'SELECT')) {
      await database.selectOption(DB);
    } else if (await database.isEditable()) {
      await database.fill(DB);
    }
    await dialog.locator('#login').fill(USER);
    await dialog.locator('button[type=submit]').click();
    const password = page.locator('.ask-dialog #ask-dialog-entry[type=password]');
    await password.waitFor({ state: 'visible' });
    await password.fill(PASS);
    await page.locator('.ask-dialog .modal-footer button.btn-primary').click();
    await page.locator('#menu tbody tr').first().waitFor({ state: 'visible' });
    await idle();

    let row = null;
    for (const name of MENU) {
      const rows = row ? row.locator('xpath=following-sibling::tr')
        : page.locator('#menu tbody tr');
      row = rows.filter({ has: page.locator('td', {
        hasText: new RegExp(`^\\s*${name}\\s*$`) }) }).first();
      await row.click();
      await idle();
    }
    const title = MENU[MENU.length - 1];
    await page.locator('#tablist li.active', { hasText: title }).waitFor();
    const pane = page.locator('#tabcontent .tab-pane.active');
    await pane.locator('.treeview table').first().waitFor({ state: 'visible' });
    await idle();
    // sao renders the rows after the data arrived: give them a moment
    await pane.locator('.treeview tbody tr').first()
      .waitFor({ state: 'visible', timeout: 5000 }).catch(() => {});
    // one object per row, keyed by the visible column titles (sao's
    // filler rows left out)
    const rows = await pane.locator('.treeview table').first().evaluate(
      (table) => {
        const cells = (tr, tag) => Array.from(tr.querySelectorAll(tag))
          .map((c) => ({ text: c.innerText.trim(), shown: c.offsetParent !== null }));
        const titles = cells(table.querySelector('thead tr'), 'th');
        return Array.from(table.querySelectorAll('tbody tr')).map((tr) => {
          const row = {};
          cells(tr, 'td').forEach((c, i) => {
            if (titles[i] && titles[i].shown && titles[i].text) row[titles[i].text] = c.text;
          });
          return row;
        }).filter((row) => Object.values(row).some((text) => text));
      });
    await page.screenshot({ path: SHOT });
    console.log(JSON.stringify({ title, rows, errors }));
  } catch (e) {
    await page.screenshot({ path: SHOT }).catch(() => {});
    console.error('FAILED:', e.message);
    process.exitCode = 1;
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
})();
