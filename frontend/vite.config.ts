import { gzipSync } from 'node:zlib';
import vue from '@vitejs/plugin-vue';
import { defineConfig, type Plugin } from 'vite';

/** The budget for the JavaScript a first page load needs (entry chunk + its static imports). */
const INITIAL_JS_BUDGET_KB = 350;

/** Prints the initial JS size (gzip) after a build and fails the build when over the budget. */
function initialBundleBudget(): Plugin {
  return {
    name: 'fieldstation-initial-bundle',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks = new Map(
        Object.values(bundle)
          .filter((item) => item.type === 'chunk')
          .map((chunk) => [chunk.fileName, chunk]),
      );
      const initial = new Set<string>();
      const visit = (name: string) => {
        const chunk = chunks.get(name);
        if (!chunk || initial.has(name)) return;
        initial.add(name);
        chunk.imports.forEach(visit);
      };
      for (const chunk of chunks.values()) if (chunk.isEntry) visit(chunk.fileName);
      const bytes = [...initial].reduce(
        (sum, name) => sum + gzipSync(chunks.get(name)!.code).length,
        0,
      );
      const kb = (bytes / 1024).toFixed(1);
      this.info(
        `initial JS: ${kb} KB gzip in ${initial.size} chunks (budget ${INITIAL_JS_BUDGET_KB} KB)`,
      );
      if (bytes > INITIAL_JS_BUDGET_KB * 1024) {
        this.error(`initial JS is ${kb} KB gzip, over the ${INITIAL_JS_BUDGET_KB} KB budget`);
      }
    },
  };
}

export default defineConfig({
  plugins: [vue(), initialBundleBudget()],
  server: {
    // During `npm run dev` the API runs separately; in production the backend serves this build.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
  build: { outDir: 'dist', emptyOutDir: true },
});
