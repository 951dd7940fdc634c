// Renders assets/icon.svg to the PNG sizes electron-builder and the tray need
// (assets/icons/NxN.png, assets/icon.png at 1024). electron-builder derives .ico and .icns
// from them on the packaging machine. Run: node assets/make-icons.cjs (needs Debian chromium).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

(async () => {
  const svg = fs.readFileSync(path.join(__dirname, 'icon.svg'), 'utf8');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const page = await browser.newPage();
  fs.mkdirSync(path.join(__dirname, 'icons'), { recursive: true });
  for (const size of [16, 24, 32, 48, 64, 128, 256, 512, 1024]) {
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(`<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`);
    const file = size === 1024 ? path.join(__dirname, 'icon.png') : path.join(__dirname, 'icons', `${size}x${size}.png`);
    await page.screenshot({ path: file, omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
  }
  fs.copyFileSync(path.join(__dirname, 'icon.png'), path.join(__dirname, 'icons', '1024x1024.png'));
  await browser.close();
})().catch((err) => { console.error(err); process.exit(1); });
