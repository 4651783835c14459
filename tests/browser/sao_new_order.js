// A store user is logged in with the store's orders open when new orders
// arrive: the page sounds a chime, speaks each order, shows it in the open
// list; the user opens the first one and prints its pick slip.
//   Prints "READY" once logged in with the list open, then reads one line
//   from stdin: the JSON list of the new orders' numbers.  Ends with one
//   JSON line: {"spoken": [{"text", "lang"}], "tones", "audio", "banners",
//   "rows": [{column title: cell text}], "slip": "<html…>", "errors"}
//   env: SAO_URL SAO_DB SAO_USER SAO_PASS SAO_MENU ("Parent/Child") SAO_SHOT
//        SAO_SLIP (the pick slip's name in the print menu)
const fs = require('fs');
const readline = require('readline');
const { run, idle, login, openList, listRows } = require('./sao');

const MENU = process.env.SAO_MENU.split('/');
const WAIT = 30000;

// Record what the page asks of the speech synthesis and of Web Audio
function instrument() {
  const record = window.__omniTest = {
    spoken: [], tones: 0, audio: [] };
  if (!window.speechSynthesis) {
    window.speechSynthesis = { speak() {}, getVoices() { return []; } };
    window.SpeechSynthesisUtterance = class {
      constructor(text) { this.text = text; }
    };
  }
  const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
  window.speechSynthesis.speak = (utterance) => {
    record.spoken.push({ text: utterance.text, lang: utterance.lang });
    try { speak(utterance); } catch (e) { /* no voice: recorded anyway */ }
  };
  if (window.OscillatorNode) {
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (...args) {
      record.tones += 1;
      record.audio.push(this.context.state);
      return start.apply(this, args);
    };
  }
}

function readLine() {
  const lines = readline.createInterface({ input: process.stdin });
  return new Promise((resolve) => lines.once('line', (line) => {
    lines.close();
    resolve(line);
  }));
}

run(process.env.SAO_SHOT || 'sao.png', async (page) => {
  await page.addInitScript(instrument);
  await login(page, process.env.SAO_USER, process.env.SAO_PASS);
  const pane = await openList(page, MENU);
  console.log('READY');
  const numbers = JSON.parse(await readLine());

  // Every order spoken
  await page.waitForFunction((wanted) => wanted.every(
    (n) => window.__omniTest.spoken.some((s) => s.text.includes(n))),
  numbers, { timeout: WAIT });
  // The open list shows them without a reload
  const row = (number) => pane.locator('.treeview tbody tr').filter({
    has: page.locator('td', { hasText: new RegExp(`^\\s*${number}\\s*$`) }),
  }).first();
  for (const number of numbers) {
    await row(number).waitFor({ state: 'visible', timeout: WAIT });
  }
  const banners = await page.locator('#omni-alerts .omni-alert-text')
    .allInnerTexts();
  const rows = await listRows(pane);

  // Open the first order and print its pick slip
  await idle(page);
  await row(numbers[0]).locator('td', {
    hasText: new RegExp(`^\\s*${numbers[0]}\\s*$`) }).first().click();
  await idle(page);
  await pane.locator('button#switch_').click();
  // the form's notebook has tab panes of its own
  const tab = page.locator('#tabcontent > .tab-pane.active');
  await tab.locator('.form').first().waitFor({ state: 'visible' });
  await idle(page);
  await tab.locator('button#print').click();
  const item = tab.locator('ul[aria-labelledby=print] a', {
    hasText: process.env.SAO_SLIP });
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: WAIT }),
    item.click(),
  ]);
  const slip = fs.readFileSync(await download.path(), 'utf-8');
  await idle(page);
  const record = await page.evaluate(() => window.__omniTest);
  return { ...record, banners, rows, slip, file: download.suggestedFilename() };
});
