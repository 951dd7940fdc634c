// Shared server list: the navigation, the pages and the status bar all follow the same data and
// reload together after a change or a server event.
import { useEffect, useState } from 'react';
import type { ServerSummary } from '../../server/contract/admin-api';
import { api } from './client';
import { useApiData, useEvents } from './hooks';

const listeners = new Set<() => void>();
/** Ask every view of the server list to reload. */
export function serversChanged(): void {
  listeners.forEach((l) => l());
}

export function useServers(): { servers: ServerSummary[] | undefined; error: string | null; reload: () => void } {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = () => setVersion((v) => v + 1);
    listeners.add(bump);
    return () => { listeners.delete(bump); };
  }, []);
  useEvents((event) => {
    if (event.type === 'state' || event.type === 'listening' || event.type === 'bind-failed') setVersion((v) => v + 1);
  });
  const { data, error, reload } = useApiData(() => api['servers.list']({}), [version], 10_000);
  return { servers: data, error, reload };
}

export function serverState(summary: ServerSummary): 'running' | 'paused' | 'stopped' | 'failed' {
  if (summary.running) return summary.paused ? 'paused' : 'running';
  return summary.config.state !== 'stopped' && summary.bindFailures.length > 0 ? 'failed' : 'stopped';
}

export async function setServerState(name: string, state: 'started' | 'stopped' | 'paused'): Promise<void> {
  await api['servers.setState']({ name, state });
  serversChanged();
}
