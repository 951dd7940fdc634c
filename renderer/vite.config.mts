// Vite builds the console UI into renderer/dist, served by `relaydesk serve --console` and
// loaded by the Electron window. Relative base so both file:// and http:// work.
import { defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: './',
  build: {
    outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      // Fluent UI marks modules 'use client' for React Server Components; meaningless in a plain bundle.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  oxc: { jsx: { runtime: 'automatic' } },
});
