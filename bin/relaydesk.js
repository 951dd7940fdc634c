#!/usr/bin/env node
// Entry point of the `relaydesk` command: runs the compiled CLI (npm install builds it).
'use strict';
// Every accepted message costs several disk operations on libuv's threadpool (open, write,
// fdatasync, a folder fsync now and then); with the default 4 threads concurrent clients queue
// behind each other's flushes. Set before the pool starts (its first use); an explicit setting wins.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '16';
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'server', 'cli', 'main.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('relaydesk: not built yet; run `npm install` (or `npm run build`) in ' + path.dirname(__dirname) + '\n');
  process.exit(1);
}
require(cli).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write('relaydesk: ' + (err && err.message ? err.message : String(err)) + '\n'); process.exitCode = 1; }
);
