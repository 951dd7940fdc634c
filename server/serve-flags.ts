// How the long-running server process is started. V8 reads these only when a process starts, so
// they are launch flags (npm start's headless server, the installed services, the benchmarks and
// the tests all pass them), not something the server can set for itself.

/**
 * V8's young generation grows to two 16 MiB semi-spaces under load and keeps them. Capped at 4 MiB
 * each. Measured on this 2-core machine: at 2 MiB (the cap until messages over 64 KiB stopped
 * being held in memory) scavenges ran often enough to cost throughput — plain c=10 × 1 KiB, 10
 * interleaved pairs each way: 4 MiB against 2 MiB, medians +11 % and +7 % msg/s; 8 MiB +5.0 to
 * +5.9 %; 16 MiB +7.5 %. Peak RSS in full `npm run bench` runs (after its warm-up), across all
 * scenarios: 2 MiB 112–128 MiB, 4 MiB 121–156 (c=50 × 100 KiB, the budgeted point: 127), 8 MiB
 * 133–185 (c=50 × 100 KiB 138 and 169: over the 150 MiB budget). Idle it changes nothing.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
