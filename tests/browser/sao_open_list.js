// Log into the Tryton web client (sao) in headless Chromium and open a list
// through the menu.  Prints one JSON line:
//   {"title", "rows": [{column title: cell text}], "errors": [page errors]}
//   env: SAO_URL SAO_DB SAO_USER SAO_PASS SAO_MENU ("Parent/Child") SAO_SHOT
const { run, login, openList, listRows } = require('./sao');

const MENU = (process.env.SAO_MENU || 'Omni Retail/Channels').split('/');

run(process.env.SAO_SHOT || 'sao.png', async (page) => {
  await login(page, process.env.SAO_USER, process.env.SAO_PASS);
  const pane = await openList(page, MENU);
  return { title: MENU[MENU.length - 1], rows: await listRows(pane) };
});
