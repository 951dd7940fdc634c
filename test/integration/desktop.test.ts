// Desktop packaging checks that need no Electron binary: `npm start` falls back to the headless
// console without a display, electron-builder validates its configuration itself, and
// electronegativity finds no high-severity issue in electron/ and renderer/ together.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { preparedDataDir } from '../helpers/serve-process';
import { eventually } from '../helpers/test-app';

const ROOT = path.resolve(__dirname, '..', '..');

describe('desktop app without a display', () => {
  it('npm start says why in one line and starts serve --console instead', async () => {
    const dir = await preparedDataDir();
    const env = { ...process.env };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    // Already built (npm test builds first): start must not build again (it did, when it looked for a file that moved).
    const builtAt = fs.statSync(path.join(ROOT, 'dist', 'server', 'cli', 'main.js')).mtimeMs;
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'start.js'), '--data', dir, '--console', '127.0.0.1:0'], { env, stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    try {
      const url = await eventually(() => /relaydesk: console on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1], 20_000);
      expect(output.split('\n')[0]).toMatch(/^relaydesk: (no display|the Electron binary is not installed); starting the headless server with its web console instead$/);
      expect((await fetch(new URL('/api/session', url))).status).toBe(200);
      expect(fs.statSync(path.join(ROOT, 'dist', 'server', 'cli', 'main.js')).mtimeMs).toBe(builtAt);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('electron-builder configuration', () => {
  it('is valid by electron-builder\'s own schema, and a wrong value is refused', async () => {
    // electron-builder's validation, called without building (a build would download Electron).
    const { getConfig, validateConfiguration } = await import('app-builder-lib/out/util/config/config');
    const { DebugLogger } = await import('builder-util/out/DebugLogger');
    const config = await getConfig(ROOT, path.join(ROOT, 'electron-builder.yml'), null);
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...config, nsis: { ...config.nsis, perMachine: 'yes' as never } }, new DebugLogger(false))).rejects.toThrow(/perMachine/);
    expect(config).toMatchObject({ appId: 'app.relaydesk.desktop', productName: 'Relaydesk', asarUnpack: ['node_modules/better-sqlite3/**/*'], nsis: { perMachine: false, oneClick: false } });
    expect(config.linux).toMatchObject({ target: ['AppImage', 'deb'] });
    expect(config.mac).toMatchObject({ target: ['dmg'] });
    expect(config.win).toMatchObject({ target: ['nsis'], icon: 'assets/icon.ico' });
    // The icons each platform needs are there: .ico with a 256 px image, .icns, and PNG sizes.
    const ico = fs.readFileSync(path.join(ROOT, 'assets', 'icon.ico'));
    expect([ico.readUInt16LE(2), ico.readUInt16LE(4)]).toEqual([1, 7]);
    expect(fs.readFileSync(path.join(ROOT, 'assets', 'icon.icns')).subarray(0, 4).toString()).toBe('icns');
    for (const size of [16, 32, 48, 64, 128, 256, 512]) expect(fs.existsSync(path.join(ROOT, 'assets', 'icons', `${size}x${size}.png`))).toBe(true);
  });
});

describe('electronegativity', () => {
  it('finds no high-severity issue in electron/ and renderer/', async () => {
    // Both folders are one application: global checks (navigation limits, permission handler,
    // CSP) must see the main process and the pages together.
    const scan = fs.mkdtempSync(path.join(os.tmpdir(), 'relaydesk-eneg-'));
    fs.cpSync(path.join(ROOT, 'electron'), path.join(scan, 'electron'), { recursive: true });
    fs.cpSync(path.join(ROOT, 'renderer'), path.join(scan, 'renderer'), { recursive: true, filter: (src) => !src.includes(`${path.sep}dist`) });
    const output = await new Promise<string>((resolve) => {
      execFile(path.join(ROOT, 'node_modules', '.bin', 'electronegativity'), ['-i', scan, '-e', '45.0.0'], { timeout: 120_000, maxBuffer: 10 * 1024 * 1024 }, (_err, stdout, stderr) => resolve(stdout + stderr));
    });
    fs.rmSync(scan, { recursive: true, force: true });
    // eslint-disable-next-line no-control-regex
    const text = output.replace(/\u001b\[[0-9;]*m/g, '');
    expect(text).toMatch(/\d+ check\(s\) successfully loaded/);
    const severities = [...text.matchAll(/\b(INFORMATIONAL|LOW|MEDIUM|HIGH|CRITICAL) \| (TENTATIVE|FIRM|CERTAIN)\b/g)].map((m) => `${m[1]} ${m[2]}`);
    console.log(`electronegativity: ${severities.length} finding(s): ${severities.join(', ') || 'none'}`);
    expect(severities.filter((s) => s.startsWith('HIGH') || s.startsWith('CRITICAL'))).toEqual([]);
  }, 150_000);
});
