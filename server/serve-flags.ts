// How the long-running server process is started. V8 reads these only when a process starts, so
// they are launch flags (npm start's headless server, the installed services, the benchmarks and
// the tests all pass them), not something the server can set for itself.

/**
 * Two flags that work together; peak RSS under load is what they buy (budget: 150 MiB at c=50 ×
 * 100 KiB), measured on this 2-core machine.
 *
 * --max-old-space-size=1536: after a full collection V8 lets the old generation grow to four times
 * what survived it when the heap's ceiling is 2 GiB or more (Node's default here: 4 GiB), and to at
 * most 1.3–2 times below that (1.8 at 1,536 MiB). A relay's live heap is 13–30 MiB; what grew on top
 * of it was garbage promoted from the young generation, waiting for the next full collection: peak
 * RSS at c=50 × 100 KiB after 20,000 smaller messages 143–153 MiB by default, 113–121 with 1536,
 * 109–114 with 512 (too low a ceiling for a server that must not run out). Alone it cost CPU:
 * more full collections (12 interleaved pairs at plain c=10 × 1 KiB: median 0.92 × the msg/s,
 * 1.13 × the CPU per message); --heap-growing-percent=100 the same way (about 6 % slower).
 *
 * --max-semi-space-size=4: V8's young generation grows to two 16 MiB semi-spaces under load by
 * default and keeps them. 4 MiB each lets a session's objects die young instead of being promoted,
 * which is what makes the smaller old generation cheap again: with both flags, 12 interleaved
 * pairs at plain c=10 × 1 KiB gave 1.035 × the msg/s and 0.99 × the CPU of 2 MiB alone, with peak
 * RSS 127–130 MiB against 139–162; seven full bench runs peaked at 124–131 MiB at c=50 × 100 KiB where
 * 2 MiB alone peaked at 134–159 in five. (History: 2 MiB was chosen first, 136–139 MiB against
 * 152–168 by default; 4 MiB alone was 7–11 % faster than 2 but peaked at 162; 8 MiB at 169.)
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--max-old-space-size=1536'];
