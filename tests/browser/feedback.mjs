// feedback.mjs - fills in the feedback form the way a person does, in
// headless Chromium, through the accessibility tree (a control that cannot
// be found by its label or its group's legend fails the test).
//
//   node feedback.mjs FORM_URL ARTIFACT_DIR
//
// Environment: CHROMIUM, the browser to drive (default /usr/bin/chromium).
// Writes ARTIFACT_DIR/feedback-form.png, feedback-form-narrow.png, feedback-errors.png,
// feedback-filled.png and feedback-thanks.png, and prints one line "ok" when every check passed.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [formUrl, artifacts] = process.argv.slice(2);
if (!formUrl || !artifacts) {
    console.error('usage: node feedback.mjs FORM_URL ARTIFACT_DIR');
    process.exit(2);
}
mkdirSync(artifacts, { recursive: true });

function check(cond, what) {
    if (!cond)
        throw new Error(`check failed: ${what}`);
}

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
    const context = await browser.newContext({
        viewport: { width: 820, height: 900 },
        javaScriptEnabled: false, // the form must work without it
        colorScheme: 'light',
    });
    const page = await context.newPage();
    const external = [];
    page.on('request', (r) => { if (!r.url().startsWith(new URL(formUrl).origin)) external.push(r.url()); });

    const resp = await page.goto(formUrl);
    check(resp.status() === 200, `GET the form: ${resp.status()}`);
    check((await page.title()).startsWith('Feedback'), 'page title');
    check(await page.getByRole('heading', { level: 1 }).innerText() ===
          '[DRILL] Checkout <b>database</b> outage & recovery', 'the heading shows the title as text');
    await page.screenshot({ path: join(artifacts, 'feedback-form.png'), fullPage: true });
    // The same form on a phone-sized screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(artifacts, 'feedback-form-narrow.png'), fullPage: true });
    await page.setViewportSize({ width: 820, height: 900 });
    // Clicking anywhere on a rating's tile chooses it (the label holds the radio).
    const tile = page.locator('label.choice[for="q_informed-3"]');
    const box = await tile.boundingBox();
    await page.mouse.click(box.x + box.width - 4, box.y + 4);
    check(await page.locator('#q_informed-3').isChecked(), 'a click on the tile edge chooses the rating');
    await page.goto(formUrl); // a fresh form: nothing chosen

    // A name but no answer: the form comes back with an alert, the name kept.
    await page.getByLabel('Your name').fill('Dana');
    await page.getByRole('button', { name: 'Send feedback' }).click();
    await page.waitForLoadState();
    check(page.url() === formUrl, `the form is shown again at its URL: ${page.url()}`);
    const alert = page.getByRole('alert');
    check(await alert.isVisible(), 'an error summary with role=alert');
    check((await alert.innerText()).includes('Answer at least one question.'), 'the error is explained');
    check(await page.getByLabel('Your name').inputValue() === 'Dana', 'the name is kept');
    await page.screenshot({ path: join(artifacts, 'feedback-errors.png'), fullPage: true });

    // Answer through the labels, as assistive technology would.
    const informed = page.getByRole('group', { name: 'How well were you kept informed?' });
    check(await informed.getByRole('radio').count() === 5, 'a 5-point scale has 5 choices');
    await informed.getByLabel('4', { exact: true }).check();
    const speed = page.getByRole('group', { name: 'How satisfied are you with the speed of resolution?' });
    check(await speed.getByRole('radio').count() === 10, 'a 10-point scale has 10 choices');
    await speed.getByLabel('9', { exact: true }).check();
    await page.getByLabel('What should we do differently?')
        .fill('Tell customers earlier.\n<script>alert(1)</script>');
    await page.screenshot({ path: join(artifacts, 'feedback-filled.png'), fullPage: true });
    await page.getByRole('button', { name: 'Send feedback' }).click();
    await page.waitForLoadState();
    check(page.url() === formUrl + '/thanks', `redirected to the thank-you page: ${page.url()}`);
    check(await page.getByRole('heading', { level: 1 }).innerText() === 'Thank you', 'thank-you heading');
    await page.screenshot({ path: join(artifacts, 'feedback-thanks.png'), fullPage: true });

    check(external.length === 0, `requests outside the server: ${external.join(', ')}`);
    console.log('ok');
} catch (e) {
    console.error(e.message);
    failed = true;
} finally {
    await browser.close();
}
process.exit(failed ? 1 : 0);
