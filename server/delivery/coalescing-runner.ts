// Runs a job on demand, never twice at once: wake() during a run asks for exactly one more run
// afterwards, however many times it was called. Both delivery workers are driven by one.

export class CoalescingRunner {
  private running = false;
  private again = false;
  private stopped = false;
  private idle: Promise<void> = Promise.resolve();

  /** onError: a run that failed is reported (a warning event), never swallowed in silence. */
  constructor(private readonly job: () => Promise<void>, private readonly onError: (err: Error) => void = () => undefined) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = this.job().catch((err: unknown) => {
      try {
        this.onError(err instanceof Error ? err : new Error(String(err)));
      } catch { /* reporting must not stop the runner */ }
    }).finally(() => {
      this.running = false;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** No more runs; resolves when the current one (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle;
  }
}
