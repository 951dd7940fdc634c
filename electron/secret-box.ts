// Refresh tokens sealed by the operating system's keychain (Electron safeStorage: DPAPI on
// Windows, Keychain on macOS, libsecret/kwallet on Linux). Values sealed by the key file (a
// sign-in made with the CLI on the same data folder) still open.
import { safeStorage } from 'electron';
import { fileKeySecretBox, type SecretBox, SecretBoxError } from '../server/oauth/secret-box';

const PREFIX = 's1:';

export function desktopSecretBox(dataDir: string): SecretBox {
  const file = fileKeySecretBox(dataDir);
  // On Linux without a keyring safeStorage falls back to a fixed key: no better than the key file.
  if (!safeStorage.isEncryptionAvailable() || (process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text')) return file;
  return {
    kind: 'OS keychain',
    seal: (plain) => PREFIX + safeStorage.encryptString(plain).toString('base64'),
    open: (sealed) => {
      if (!sealed.startsWith(PREFIX)) return file.open(sealed);
      try {
        return safeStorage.decryptString(Buffer.from(sealed.slice(PREFIX.length), 'base64'));
      } catch {
        throw new SecretBoxError('cannot be opened by this user\'s keychain');
      }
    },
  };
}
