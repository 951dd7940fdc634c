// How the long-running server process is started. V8 reads these only when a process starts, so
// they are launch flags (npm start's headless server, the installed services, the benchmarks and
// the tests all pass them), not something the server can set for itself.

/**
 * V8's young generation grows to two 16 MiB semi-spaces under load and keeps them; capped at
 * 4 MiB each, peak RSS fell by about 20 MiB (plain c=10 × 1 KiB: 152–156 → 133–135 MiB; c=50 ×
 * 100 KiB: 156–168 → 140–143 MiB) with throughput within the machine's noise. Idle, it changes
 * nothing: the young generation starts at 1 MiB either way.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
