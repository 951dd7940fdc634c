// Smart host passwords and OAuth2 client secrets (the server's and its routes') are sealed inside a server's stored
// delivery settings ({ "sealed": "k1:…" } in place of the string), so the SQLite file never holds
// them in clear. Sealing uses the data folder's key file (secret.key, owner-only), which every
// Relaydesk process on that folder can open: the CLI, `serve` and the desktop app alike.
import { mapSmartHosts } from '../contract/settings';
import type { SecretBox } from '../oauth/secret-box';

interface Sealed { sealed: string }

function isSealed(value: unknown): value is Sealed {
  return typeof value === 'object' && value !== null && typeof (value as Sealed).sealed === 'string';
}

type Json = Record<string, unknown>;

/** Apply `transform` to each secret field of stored delivery settings: every smart host's (default and routes') password and OAuth2 client secret. */
function mapSecrets(delivery: Json, transform: (value: unknown) => unknown): Json {
  return mapSmartHosts(delivery as Json & { smartHost: unknown }, (host) => {
    const oauth2 = host.oauth2 as Json | null | undefined;
    return {
      ...host,
      password: transform(host.password ?? null),
      ...(oauth2 && typeof oauth2 === 'object' ? { oauth2: { ...oauth2, clientSecret: transform(oauth2.clientSecret ?? null) } } : {}),
    };
  });
}

export function sealSecrets(delivery: object, box: SecretBox): Json {
  return mapSecrets(delivery as Json, (value) => (typeof value === 'string' ? { sealed: box.seal(value) } : value));
}

/** A sealed value that cannot be opened (the key file was replaced) reads as "not set": the admin enters it again. */
export function openSealedSecrets(delivery: Json, box: SecretBox): Json {
  return mapSecrets(delivery, (value) => {
    if (!isSealed(value)) return value;
    try {
      return box.open(value.sealed);
    } catch {
      return null;
    }
  });
}
