// A cashier rings up a sale on the cashier page: logs in, opens the cash
// session, scans three goods (typed as a barcode scanner does), finds the
// member by phone, takes a coupon, pays part with stored value and the
// rest in cash, prints the receipt to PDF; mid-sale, it reloads the page and
// loses the network to prove nothing is lost.  Prints one JSON line:
//   {"sale", "total", "change", "tendered", "scan_ms": [...], "paid_ms",
//    "reload_kept", "offline" (the message), "offline_kept", "receipt",
//    "barcode", "timings", "errors"}
//   env: SAO_URL SAO_DB SAO_USER SAO_PASS SAO_SHOT CASHIER_CODES (comma
//        separated) CASHIER_PHONE CASHIER_COUPON CASHIER_STORED (amount)
//        CASHIER_PDF CASHIER_LANGUAGE (en or zh_CN) CASHIER_SHOTS (folder
//        for the page's screenshots, optional)
const { run } = require('./sao');

const BASE = process.env.SAO_URL || 'http://127.0.0.1:8010/';
const DB = process.env.SAO_DB || 'omni_demo';
const CODES = process.env.CASHIER_CODES.split(',');

async function idle(page) {
  await page.waitForFunction(() => !document.querySelector('[data-busy]'));
}

// Run a cashier action and wait until the page shows its answer
async function answered(page, action) {
  const before = await page.evaluate(() => window.omniCashier.timings.length);
  await action();
  await page.waitForFunction(
    (n) => window.omniCashier.timings.length > n, before);
  await idle(page);
}

async function scan(page, code) {
  const field = page.locator('[data-form="scan"] input');
  await field.fill(code);
  const start = Date.now();
  await answered(page, () => field.press('Enter'));
  await page.locator(`tr[data-code="${code}"]`).waitFor();
  return Date.now() - start;
}

async function shot(page, name) {
  if (process.env.CASHIER_SHOTS) {
    await page.screenshot({ path: `${process.env.CASHIER_SHOTS}/${name}` });
  }
}

run(process.env.SAO_SHOT || 'cashier.png', async (page) => {
  const language = process.env.CASHIER_LANGUAGE || 'zh_CN';
  await page.addInitScript(() => { window.print = () => { window.printed = true; }; });
  await page.goto(`${BASE}${DB}/omni/pos/`);
  const form = page.locator('[data-form="login"]');
  await form.locator('[name="login"]').fill(process.env.SAO_USER);
  await form.locator('[name="password"]').fill(process.env.SAO_PASS);
  await form.locator('button[type="submit"]').click();
  await page.locator('header').waitFor();
  if (language === 'en' && await page.locator('[data-action="language"]',
    { hasText: 'EN' }).count()) {
    await page.locator('[data-action="language"]').click();
  }
  if (await page.locator('[data-action="open-session"]').count()) {
    await answered(page, () => page.locator('[data-action="open-session"]').click());
  }

  // A sale left open by an earlier run is not this one's
  if (await page.locator('[data-action="cancel"]').count()) {
    await answered(page, () => page.locator('[data-action="cancel"]').click());
  }

  const scanMs = [];
  scanMs.push(await scan(page, CODES[0]));
  scanMs.push(await scan(page, CODES[1]));

  // A reload in the middle of the sale keeps it
  await page.reload();
  await page.locator(`tr[data-code="${CODES[1]}"]`).waitFor();
  const reloadKept = await page.locator('table.lines tbody tr').count() === 2;

  // The network drops: the cashier is told, the sale stays as it was
  await page.context().setOffline(true);
  const field = page.locator('[data-form="scan"] input');
  await field.fill(CODES[2]);
  await field.press('Enter');
  await page.locator('[role="alert"]').waitFor();
  const offline = await page.locator('[role="alert"]').innerText();
  const offlineKept = await page.locator('table.lines tbody tr').count() === 2;
  await page.context().setOffline(false);

  scanMs.push(await scan(page, CODES[2]));
  // the third goods twice, by the + button
  await answered(page, () => page.locator(`tr[data-code="${CODES[2]}"] `
    + '[data-action="more"]').click());

  await page.locator('[data-form="member"] [name="phone"]')
    .fill(process.env.CASHIER_PHONE);
  await answered(page, () => page.locator('[data-form="member"] button').click());
  await page.locator('[data-member]').waitFor();

  await page.locator('[data-form="coupon"] [name="code"]')
    .fill(process.env.CASHIER_COUPON);
  await answered(page, () => page.locator('[data-form="coupon"] button').click());
  const alert = await page.locator('[role="alert"]').count();
  if (alert) throw new Error(await page.locator('[role="alert"]').innerText());
  await shot(page, `cashier-${language}.png`);

  const total = await page.locator('[data-total]').getAttribute('data-total');
  await page.locator('[name="amount"]').fill(process.env.CASHIER_STORED);
  await answered(page, () => page.locator('[data-kind="stored_value"]').click());
  const due = Number(await page.locator('[data-to-pay]')
    .getAttribute('data-to-pay'));
  const tendered = String(Math.ceil(due / 10) * 10 + 10);
  await page.locator('[name="amount"]').fill(tendered);
  const paidStart = Date.now();
  await answered(page, () => page.locator('[data-kind="cash"]').click());
  await page.locator('[data-change]').waitFor();
  const paidMs = Date.now() - paidStart;
  const change = await page.locator('[data-change]').getAttribute('data-change');
  const sale = await page.evaluate(() => window.omniCashier.done.number);
  await shot(page, `cashier-paid-${language}.png`);

  await page.locator('[data-action="print"]').click();
  await page.waitForFunction(() => window.printed);
  await page.emulateMedia({ media: 'print' });
  await page.pdf({ path: process.env.CASHIER_PDF, width: '80mm',
    printBackground: false });
  const receipt = await page.locator('#receipt').innerText();
  const barcode = await page.locator('#receipt-barcode rect').count();
  await page.emulateMedia({ media: 'screen' });
  const timings = await page.evaluate(() => window.omniCashier.timings);
  return { sale, total, change, tendered, scan_ms: scanMs, paid_ms: paidMs,
    reload_kept: reloadKept, offline, offline_kept: offlineKept, receipt,
    barcode, timings };
});
