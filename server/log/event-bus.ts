// In-process stream of session and server events. Emitting is synchronous and cheap; a slow
// subscriber must buffer on its own side, the SMTP path never waits for a listener.
import type { RelaydeskEvent } from '../contract/events';

export type EventListener = (event: RelaydeskEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: RelaydeskEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken subscriber must not break a session.
      }
    }
  }
}
