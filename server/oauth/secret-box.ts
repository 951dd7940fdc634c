// Sealing refresh tokens at rest. The default box keeps a random 256-bit key in the data folder,
// readable by its owner only (0600), and seals with AES-256-GCM; the desktop app can supply a box
// backed by the operating system's keychain (Electron safeStorage) instead. A sealed value names
// its box, so a value one box cannot open is reported as such, never misread.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface SecretBox {
  /** Short name shown in status ("key file", "OS keychain"). */
  readonly kind: string;
  seal(plain: string): string;
  /** Throws SecretBoxError when the value was sealed by another box or was tampered with. */
  open(sealed: string): string;
}

export class SecretBoxError extends Error {}

const FILE_PREFIX = 'k1:';

export function fileKeySecretBox(dataDir: string): SecretBox {
  const keyPath = path.join(dataDir, 'secret.key');
  let key: Buffer | null = null;
  const load = (): Buffer => {
    if (key) return key;
    try {
      key = fs.readFileSync(keyPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const fresh = crypto.randomBytes(32);
      try {
        // wx: never overwrite a key another process has just written (it would orphan its tokens).
        fs.writeFileSync(keyPath, fresh, { mode: 0o600, flag: 'wx' });
        key = fresh;
      } catch (raced) {
        if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
        key = fs.readFileSync(keyPath);
      }
    }
    if (key.length !== 32) throw new SecretBoxError(`${keyPath} is not a 32-byte key`);
    return key;
  };
  return {
    kind: 'key file',
    seal(plain) {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', load(), iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return FILE_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    open(sealed) {
      if (!sealed.startsWith(FILE_PREFIX)) throw new SecretBoxError('sealed by another store of secrets (the desktop app\'s OS keychain?)');
      const raw = Buffer.from(sealed.slice(FILE_PREFIX.length), 'base64');
      try {
        const decipher = crypto.createDecipheriv('aes-256-gcm', load(), raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch (err) {
        if (err instanceof SecretBoxError) throw err;
        throw new SecretBoxError('cannot be opened with this key (the key file was replaced?)');
      }
    },
  };
}
