#!/usr/bin/env node
// `npm start`: the desktop app where a display and the Electron binary exist; otherwise, in one
// line, why not, and the headless server with its web console instead. Extra arguments go to
// `relaydesk serve` (e.g. --data DIR, --console 127.0.0.1:0).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const built = ['dist/server/cli/main.js', 'dist/server/serve-flags.js', 'dist/electron/main.js', 'dist/electron-preload/preload.js', 'renderer/dist/index.html'].every((f) => fs.existsSync(path.join(root, f)));
if (!built) {
  const result = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** The Electron binary if it is installed; read like electron/index.js does, without its download attempt. */
function electronBinary() {
  try {
    const dir = path.dirname(require.resolve('electron/package.json'));
    const relative = fs.readFileSync(path.join(dir, 'path.txt'), 'utf8').trim();
    const binary = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(dir, 'dist'), relative);
    return fs.existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

const args = process.argv.slice(2);
const noDisplay = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
const binary = electronBinary();
if (noDisplay || !binary || process.env.RELAYDESK_HEADLESS) {
  const why = noDisplay ? 'no display' : !binary ? 'the Electron binary is not installed' : 'RELAYDESK_HEADLESS is set';
  process.stdout.write(`relaydesk: ${why}; starting the headless server with its web console instead\n`);
  // Launch flags of the server process (why: dist/server/serve-flags.js).
  const { SERVE_NODE_FLAGS } = require(path.join(root, 'dist', 'server', 'serve-flags.js'));
  const serveArgs = ['serve', ...(args.some((a) => a === '--console' || a.startsWith('--console=')) ? [] : ['--console']), ...args];
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, path.join(__dirname, 'relaydesk.js'), ...serveArgs], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const child = spawn(binary, [root, ...args], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}
