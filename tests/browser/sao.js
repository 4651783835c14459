// Drive the Tryton web client (sao) in headless Chromium: shared steps of
// the browser checks.
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const BASE = process.env.SAO_URL || 'http://127.0.0.1:8010/';
const DB = process.env.SAO_DB || 'omni_demo';

// Run work(page, errors) in a fresh browser; print its result as one JSON
// line, or fail with a screenshot at shot
async function run(shot, work) {
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
  try {
    const result = await work(page, errors);
    await page.screenshot({ path: shot });
    console.log(JSON.stringify({ ...result, errors }));
  } catch (e) {
    await page.screenshot({ path: shot }).catch(() => {});
    console.error('FAILED:', e.message);
    process.exitCode = 1;
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

// sao sends every call through jQuery.ajax: idle when none is pending
function idle(page) {
  return page.waitForFunction(() => window.jQuery &&
    jQuery.active <= (window.Sao && Sao.Bus && Sao.Bus.listening ? 1 : 0));
}

async function login(page, user, password) {
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
  await dialog.locator('#login').fill(user);
  await dialog.locator('button[type=submit]').click();
  const entry = page.locator('.ask-dialog #ask-dialog-entry[type=password]');
  await entry.waitFor({ state: 'visible' });
  await entry.fill(password);
  await page.locator('.ask-dialog .modal-footer button.btn-primary').click();
  await page.locator('#menu tbody tr').first().waitFor({ state: 'visible' });
  await idle(page);
}

// Open the list of the menu path ["Parent", "Child"]; return its tab pane
async function openList(page, names) {
  let row = null;
  for (const name of names) {
    const rows = row ? row.locator('xpath=following-sibling::tr')
      : page.locator('#menu tbody tr');
    row = rows.filter({ has: page.locator('td', {
      hasText: new RegExp(`^\\s*${name}\\s*$`) }) }).first();
    await row.click();
    await idle(page);
  }
  const title = names[names.length - 1];
  await page.locator('#tablist li.active', { hasText: title }).waitFor();
  const pane = page.locator('#tabcontent .tab-pane.active');
  await pane.locator('.treeview table').first().waitFor({ state: 'visible' });
  await idle(page);
  // sao renders the rows after the data arrived: give them a moment
  await pane.locator('.treeview tbody tr').first()
    .waitFor({ state: 'visible', timeout: 5000 }).catch(() => {});
  return pane;
}

// One object per row of the pane's list, keyed by the visible column titles
// (sao's filler rows left out)
function listRows(pane) {
  return pane.locator('.treeview table').first().evaluate((table) => {
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
}

module.exports = { run, idle, login, openList, listRows };
