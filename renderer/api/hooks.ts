// Data hooks over the AdminApi: load, reload on demand or on an interval, and live events.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { RelaydeskEvent } from '../../server/contract/admin-api';
import { errorMessage, transport } from './client';

export interface Loaded<T> { data: T | undefined; error: string | null; loading: boolean; reload: () => void }

export function useApiData<T>(load: () => Promise<T>, deps: readonly unknown[], refreshMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let live = true;
    setLoading(true);
    loadRef.current().then(
      (value) => { if (live) { setData(value); setError(null); setLoading(false); } },
      (err: unknown) => { if (live) { setError(errorMessage(err)); setLoading(false); } },
    );
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  useEffect(() => {
    if (!refreshMs) return undefined;
    const timer = setInterval(() => setTick((t) => t + 1), refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/** One shared event stream for the whole UI; listeners come and go. */
const listeners = new Set<(event: RelaydeskEvent) => void>();
let unsubscribe: (() => void) | null = null;

export function useEvents(listener: (event: RelaydeskEvent) => void): void {
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => {
    const wrapped = (event: RelaydeskEvent) => ref.current(event);
    listeners.add(wrapped);
    if (!unsubscribe) unsubscribe = transport.subscribe((event) => listeners.forEach((l) => l(event)));
    return () => {
      listeners.delete(wrapped);
      if (listeners.size === 0 && unsubscribe) {
        unsubscribe();
        unsubscribe = null;
      }
    };
  }, []);
}

/** Run an action, keep its error (or clear it), then reload the data it changed; busy while it runs. */
export function useAction(reload?: () => void): { error: string | null; busy: boolean; run: (work: () => Promise<unknown>) => Promise<void> } {
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(0);
  const run = useCallback(async (work: () => Promise<unknown>) => {
    setRunning((n) => n + 1);
    try {
      await work();
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setRunning((n) => n - 1);
    }
    reload?.();
  }, [reload]);
  return { error, busy: running > 0, run };
}
