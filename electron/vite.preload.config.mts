// Sandboxed preloads cannot require local files, so the preload is bundled into one CommonJS
// file with only 'electron' left external (the contract's method list is inlined).
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: new URL('../dist/electron-preload', import.meta.url).pathname,
    emptyOutDir: true,
    minify: false,
    lib: { entry: new URL('./preload.ts', import.meta.url).pathname, formats: ['cjs'], fileName: () => 'preload.js' },
    rolldownOptions: { external: ['electron'] },
  },
});
