// How the long-running server process is started. V8 reads these only when a process starts, so
// they are launch flags (npm start's headless server, the installed services, the benchmarks and
// the tests all pass them), not something the server can set for itself.

/**
 * V8's young generation grows to two 16 MiB semi-spaces under load and keeps them. Capped at 2 MiB
 * each (measured on this 2-core machine, 3–5 interleaved runs per setting): peak RSS at plain c=10
 * × 1 KiB 152–156 MiB by default, 139–141 at 4 MiB, 136–137 at 2 MiB; at c=50 × 100 KiB 156–168,
 * 138–144 and 132–139 MiB. Server CPU per message and throughput did not move beyond the machine's
 * noise (1 MiB saved a few MiB more, within that noise). Idle it changes nothing.
 * Tried again later and kept at 2: 4 MiB was 7–11 % faster at plain c=10 × 1 KiB (10 interleaved
 * pairs each way) but peaked at 162 MiB at c=50 × 100 KiB in two of three full bench runs (budget
 * 150; 2 MiB: 114–138); 8 MiB peaked at 169.
 * Measured, not adopted: --heap-growing-percent=200 (old generation collected sooner) lowered the
 * c=50 × 100 KiB peak from 157–164 to 139–145 MiB in a short sequence, but one full bench run with
 * it was no better on RSS (145) and below target on other ratios; =100 was about 6 % slower.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
