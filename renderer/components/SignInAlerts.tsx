// A smart host whose OAuth2 sign-in was lost (refresh refused) holds all outgoing mail: say so on
// every page, not only in the server's properties, until someone signs in again.
import { Link, MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import type { SmartHostSignInStatus } from '../../server/contract/admin-api';
import { api } from '../api/client';
import { useEvents } from '../api/hooks';
import { useServers } from '../api/servers';

export function SignInAlerts() {
  const { servers } = useServers();
  const [lost, setLost] = useState<SmartHostSignInStatus[]>([]);
  const [version, setVersion] = useState(0);
  useEvents((event) => { if (event.type === 'smarthost-sign-in') setVersion((v) => v + 1); });
  const oauthServers = (servers ?? []).filter((s) => s.config.delivery.smartHost?.authentication === 'oauth2').map((s) => s.config.name);
  const key = oauthServers.join('\n');
  useEffect(() => {
    let alive = true;
    void Promise.all(key ? key.split('\n').map((server) => api['smarthost.status']({ server }).catch(() => null)) : [])
      .then((all) => { if (alive) setLost(all.filter((s): s is SmartHostSignInStatus => s !== null && s.needsSignIn)); });
    return () => { alive = false; };
  }, [key, version]);
  if (lost.length === 0) return null;
  return (
    <div style={{ padding: '8px 16px 0' }} role="alert">
      {lost.map((s) => (
        <MessageBar key={s.server} intent="error">
          <MessageBarBody>
            <MessageBarTitle>{s.server}: sign-in to the smart host needed</MessageBarTitle>
            Mail for other domains is waiting in the queue{s.lastError ? ` (${s.lastError})` : ''}. Sign in again under{' '}
            <Link href={`#/server/${encodeURIComponent(s.server)}`}>{s.server}</Link> → Properties → Delivery.
          </MessageBarBody>
        </MessageBar>
      ))}
    </div>
  );
}
