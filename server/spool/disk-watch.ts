// Watches the free space of the data folder's file system. Below the floor (the smaller of
// minFreeMiB and minFreePercent of the disk) new mail is refused at MAIL FROM with 452 4.3.1
// before anyone sends a body; acceptance resumes by itself once space is back (with a margin,
// so it does not flap). Mail already accepted is never touched. A floor of 0 turns it off.
import fs from 'node:fs';
import type { LogSettings } from '../contract/admin-api';

const MIB = 1024 * 1024;
export const DISK_CHECK_MS = 10_000;
/** Acceptance resumes only when free space is this much above the floor. */
const RESUME_MARGIN = 1.05;

export interface DiskSpace { freeBytes: number; totalBytes: number }

export interface DiskWatchDeps {
  dir: string;
  settings(): Pick<LogSettings, 'minFreeMiB' | 'minFreePercent'>;
  /** Called when the state changes: low (with what was measured) or back to normal. */
  onChange(low: boolean, space: DiskSpace, floorBytes: number): void;
}

export function measureDiskSpace(dir: string): Promise<DiskSpace> {
  return fs.promises.statfs(dir).then((s) => ({ freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize }));
}

/** The floor in bytes: the smaller of the two settings (a small disk uses the percentage). */
export function freeSpaceFloor(settings: Pick<LogSettings, 'minFreeMiB' | 'minFreePercent'>, totalBytes: number): number {
  return Math.min(settings.minFreeMiB * MIB, (settings.minFreePercent / 100) * totalBytes);
}

export class DiskWatch {
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<boolean> | null = null;
  private stopped = false;
  low = false;

  constructor(private readonly deps: DiskWatchDeps) {}

  start(intervalMs = DISK_CHECK_MS): Promise<boolean> {
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
    return this.check();
  }

  /** No more checks; waits for one in progress (it reads settings from the store about to close). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.checking?.catch(() => undefined);
  }

  /** Measure now (also after a write failed for lack of space); resolves with "low". */
  check(): Promise<boolean> {
    this.checking ??= this.measure().finally(() => { this.checking = null; });
    return this.checking;
  }

  private async measure(): Promise<boolean> {
    let space: DiskSpace;
    let floor: number;
    try {
      space = await measureDiskSpace(this.deps.dir);
      if (this.stopped) return this.low;
      floor = freeSpaceFloor(this.deps.settings(), space.totalBytes);
    } catch {
      return this.low; // cannot measure (an exotic file system): keep the last state
    }
    const low = this.low ? space.freeBytes < floor * RESUME_MARGIN : space.freeBytes < floor;
    if (low !== this.low) {
      this.low = low;
      this.deps.onChange(low, space, floor);
    }
    return low;
  }
}
