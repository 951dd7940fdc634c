// Renders assets/icon.svg to the icons each platform needs: PNGs (assets/icons/NxN.png for Linux
// and the tray, assets/icon.png at 1024), assets/icon.ico (Windows) and assets/icon.icns (macOS),
// the last two as containers of PNG images. Run: node assets/make-icons.cjs (needs chromium).
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
  const png = (size) => fs.readFileSync(size === 1024 ? path.join(__dirname, 'icon.png') : path.join(__dirname, 'icons', `${size}x${size}.png`));
  // Windows .ico: PNG-compressed entries (valid since Windows Vista), 16 to 256 pixels.
  const icoSizes = [16, 24, 32, 48, 64, 128, 256];
  const header = Buffer.alloc(6 + 16 * icoSizes.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(icoSizes.length, 4);
  let offset = header.length;
  const images = icoSizes.map((size, i) => {
    const data = png(size);
    const entry = 6 + 16 * i;
    header.writeUInt8(size === 256 ? 0 : size, entry);
    header.writeUInt8(size === 256 ? 0 : size, entry + 1);
    header.writeUInt16LE(1, entry + 4);
    header.writeUInt16LE(32, entry + 6);
    header.writeUInt32LE(data.length, entry + 8);
    header.writeUInt32LE(offset, entry + 12);
    offset += data.length;
    return data;
  });
  fs.writeFileSync(path.join(__dirname, 'icon.ico'), Buffer.concat([header, ...images]));
  // macOS .icns: PNG entries ic07 (128), ic08 (256), ic09 (512), ic10 (1024 = 512@2x).
  const chunks = [['ic07', 128], ['ic08', 256], ['ic09', 512], ['ic10', 1024]].map(([type, size]) => {
    const data = png(size);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([head, data]);
  });
  const body = Buffer.concat(chunks);
  const icnsHead = Buffer.alloc(8);
  icnsHead.write('icns', 0, 'ascii');
  icnsHead.writeUInt32BE(body.length + 8, 4);
  fs.writeFileSync(path.join(__dirname, 'icon.icns'), Buffer.concat([icnsHead, body]));
})().catch((err) => { console.error(err); process.exit(1); });
