// How the long-running server process is started. V8 reads these only when a process starts, so
// they are launch flags (npm start's headless server, the installed services, the benchmarks and
// the tests all pass them), not something the server can set for itself.

/**
 * V8's young generation grows to two 16 MiB semi-spaces under load and keeps them. Capped at 8 MiB
 * each. Measured on this 2-core machine: with 2 MiB (the cap until messages over 64 KiB stopped
 * being held in memory) scavenges ran often enough to cost throughput — plain c=10 × 1 KiB, 10
 * interleaved pairs each way, 8 MiB against 2 MiB: medians +5.0 %, +5.9 %, +5.6 % msg/s; 16 MiB
 * +7.5 %. Peak RSS at c=50 × 100 KiB (Node load generator, 3,000 messages, two runs each): 2 MiB
 * 144–147, 4 MiB 140–153, 8 MiB 146–150, 16 MiB 167–178 MiB — 16 would break the 150 MiB budget.
 * Idle it changes nothing.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
