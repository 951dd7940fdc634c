// Conditions that need the admin right now, as observed (a disk below its floor, a refused
// token refresh): raised and cleared by the part that observes them, listed by the status bar
// and /status.warnings. Raising one also puts a warning event in the log, once per change.
import type { ActiveWarning } from '../contract/admin-api';
import type { EventBus } from './event-bus';

export class WarningSet {
  private readonly active = new Map<string, ActiveWarning>();

  constructor(private readonly bus: EventBus, private readonly now: () => Date) {}

  raise(id: string, message: string, action: string): void {
    const current = this.active.get(id);
    if (current && current.message === message) return;
    const at = this.now().toISOString();
    this.active.set(id, { id, message, action, since: current?.since ?? at });
    this.bus.emit({ type: 'warning', at, message: `${message} ${action}` });
  }

  clear(id: string, resolvedMessage?: string): void {
    if (!this.active.delete(id)) return;
    if (resolvedMessage) this.bus.emit({ type: 'warning', at: this.now().toISOString(), message: resolvedMessage });
  }

  list(): ActiveWarning[] {
    return [...this.active.values()];
  }
}
