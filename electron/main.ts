// The desktop app's main process: hosts the engine and the store (server/app, unchanged), serves
// the renderer build from relaydesk://app with a CSP, binds the AdminApi to IPC, and keeps the
// servers running in the tray when the window closes. Glue only: logic belongs in server/.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, net, protocol, session, shell, Tray } from 'electron';
import { createAdminHandlers } from '../server/admin';
import { App } from '../server/app';
import { packageRoot } from '../server/paths';
import { bindAdminApi, forwardEvents } from './ipc';
import { desktopSecretBox } from './secret-box';
import { APP_ORIGIN, APP_SCHEME, createMainWindow, DESKTOP_CSP, isAllowedExternalUrl, rendererFile } from './window';

const ROOT = packageRoot(__dirname);
const RENDERER_DIR = path.join(ROOT, 'renderer', 'dist');
const PRELOAD = path.join(ROOT, 'dist', 'electron-preload', 'preload.js');
const ICON = path.join(ROOT, 'assets', 'icons', '32x32.png');
const CLOSE_TO_TRAY_KEY = 'desktop.closeToTray';

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let relaydesk: App | null = null;
let window: BrowserWindow | null = null;
let tray: Tray | null = null;
let stopped = false;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => showWindow());
  app.whenReady().then(start).catch((err: unknown) => {
    dialog.showErrorBox('Relaydesk cannot start', (err as Error).message);
    app.exit(1);
  });
}

async function start(): Promise<void> {
  relaydesk = new App({ dataDir: app.getPath('userData'), secretBox: desktopSecretBox(app.getPath('userData')) });
  await relaydesk.ensureDefaults();
  await relaydesk.start();

  protocol.handle(APP_SCHEME, async (request) => {
    const response = await net.fetch(pathToFileURL(rendererFile(RENDERER_DIR, request.url)).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', DESKTOP_CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  bindAdminApi(ipcMain, createAdminHandlers(relaydesk), () => window?.webContents ?? null);
  forwardEvents(relaydesk.bus, () => window?.webContents ?? null);
  relaydesk.bus.subscribe((event) => { if (event.type === 'state' || event.type === 'listening' || event.type === 'bind-failed') updateTray(); });

  createWindow();
  tray = new Tray(nativeImage.createFromPath(ICON));
  tray.on('click', showWindow);
  updateTray();
}

function createWindow(): void {
  window = createMainWindow(BrowserWindow, PRELOAD);
  const contents = window.webContents;
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  window.on('close', (event) => {
    if (stopped || !relaydesk) return;
    event.preventDefault();
    void closeToTrayOrQuit();
  });
  window.once('ready-to-show', () => window?.show());
  void window.loadURL(`${APP_ORIGIN}/index.html`);
}

function showWindow(): void {
  if (!window) createWindow();
  window?.show();
  window?.focus();
}

/** Closing the window keeps the servers running in the tray; asked once, then remembered. */
async function closeToTrayOrQuit(): Promise<void> {
  if (!relaydesk) return;
  let choice = relaydesk.store.getMeta(CLOSE_TO_TRAY_KEY);
  if (choice === null && window) {
    const answer = await dialog.showMessageBox(window, {
      type: 'question', buttons: ['Keep running in the tray', 'Quit Relaydesk'], defaultId: 0, cancelId: 0,
      message: 'Keep the SMTP servers running when the window is closed?',
      detail: 'Scanners and applications can go on sending mail while Relaydesk runs in the tray.',
      checkboxLabel: 'Remember my choice', checkboxChecked: true,
    });
    choice = answer.response === 0 ? 'tray' : 'quit';
    if (answer.checkboxChecked) relaydesk.store.setMeta(CLOSE_TO_TRAY_KEY, choice);
  }
  if (choice === 'quit') app.quit();
  else window?.hide();
}

function updateTray(): void {
  if (!tray || !relaydesk) return;
  const status = relaydesk.engine.status();
  const running = status.filter((s) => s.running).length;
  tray.setToolTip(`Relaydesk: ${running} of ${status.length} servers running`);
  const openAtLogin = app.getLoginItemSettings().openAtLogin;
  tray.setContextMenu(Menu.buildFromTemplate([
    { label: `${running} of ${status.length} servers running`, enabled: false },
    ...status.map((s) => ({
      label: `${s.name}: ${s.running ? (s.paused ? 'paused' : 'running') : 'stopped'}`,
      submenu: [
        { label: 'Start', enabled: !s.running || s.paused, click: () => void relaydesk?.engine.setState(s.name, 'started').then(updateTray) },
        { label: 'Stop', enabled: s.running, click: () => void relaydesk?.engine.setState(s.name, 'stopped').then(updateTray) },
      ],
    })),
    { type: 'separator' },
    { label: 'Open Relaydesk', click: showWindow },
    { label: 'Start Relaydesk when I sign in', type: 'checkbox', checked: openAtLogin, click: (item) => { app.setLoginItemSettings({ openAtLogin: item.checked }); } },
    { type: 'separator' },
    { label: 'Quit', click: () => app.quit() },
  ]));
}

// Graceful quit: stop accepting, let messages in progress finish, flush and close the store.
app.on('before-quit', (event) => {
  if (stopped || !relaydesk) return;
  event.preventDefault();
  const running = relaydesk;
  relaydesk = null;
  void running.stop().finally(() => {
    stopped = true;
    app.quit();
  });
});

app.on('window-all-closed', () => {
  // Servers keep running in the tray; quitting is explicit.
});
