// Where Relaydesk keeps its data when --data is not given: the per-user application-data folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.RELAYDESK_DATA) return env.RELAYDESK_DATA;
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Relaydesk');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Relaydesk');
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'relaydesk');
}

/** The folder holding Relaydesk's package.json (works from server/ and from dist/server/). */
export function packageRoot(start = __dirname): string {
  let dir = start;
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file) && (JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string }).name === 'relaydesk') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return start;
    dir = parent;
  }
}
