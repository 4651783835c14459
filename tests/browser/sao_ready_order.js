// A store user logs in, sees the new-order notifications, opens the store's
// orders and marks the first reserved pickup ready.  Prints one JSON line:
//   {"badge", "number", "before", "after": [{column title: cell text}], "errors"}
//   env: SAO_URL SAO_DB SAO_USER SAO_PASS SAO_MENU ("Parent/Child") SAO_SHOT
//        SAO_READY (button text), SAO_RESERVED, SAO_STATE (column titles)
const { run, idle, login, openList, listRows } = require('./sao');

const MENU = process.env.SAO_MENU.split('/');
const STATE = process.env.SAO_STATE;

run(process.env.SAO_SHOT || 'sao.png', async (page) => {
  await login(page, process.env.SAO_USER, process.env.SAO_PASS);
  const badge = page.locator('.notification-badge:visible').first();
  await badge.waitFor({ state: 'visible' });
  const count = await badge.innerText();
  const pane = await openList(page, MENU);
  const before = await listRows(pane);
  // the first reserved order with its Ready button shown: a pickup
  const reserved = pane.locator('.treeview tbody tr').filter({
    has: page.locator('td', { hasText: process.env.SAO_RESERVED }) }).filter({
    has: page.locator('button:visible', { hasText: process.env.SAO_READY }) })
    .first();
  const number = (await reserved.locator('td').allInnerTexts())
    .map((t) => t.trim()).find((t) => /^\d+$/.test(t)) || null;
  // sao runs a row's button once its row is selected
  const ready = reserved.locator('button:visible', {
    hasText: process.env.SAO_READY });
  await ready.click();
  await idle(page);
  await ready.click();
  await idle(page);
  let after = await listRows(pane);
  for (let i = 0; i < 50 && !after.some((r) => r[STATE] === process.env.SAO_READY); i++) {
    await page.waitForTimeout(200);
    after = await listRows(pane);
  }
  return { badge: count, number, before, after };
});
