/// <reference types="vitest/config" />
import { resolve } from "node:path";
import { defineConfig } from "vite";

// The bundle is served by Django as static files: {% static 'frontend/build/editor.js' %}, one entry a page. File names carry no
// hash (Django's static storage adds its own in production), so the templates name them directly.
export default defineConfig({
  base: "/static/frontend/build/",
  build: {
    // DEFECTLAB_EDITOR_BUILD_DIR: docker-compose builds into a volume (the source is mounted read-only there).
    outDir: process.env.DEFECTLAB_EDITOR_BUILD_DIR ?? resolve(__dirname, "static/frontend/build"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    rollupOptions: {
      input: {
        editor: resolve(__dirname, "src/editor-main.ts"),
        queue: resolve(__dirname, "src/queue-main.ts"),
        "qa-project": resolve(__dirname, "src/pages/qa-project-main.ts"),
        "qa-adjudication": resolve(__dirname, "src/pages/qa-adjudication-main.ts"),
        "qa-spot-checks": resolve(__dirname, "src/pages/qa-spot-checks-main.ts"),
        upload: resolve(__dirname, "src/pages/upload-main.ts"),
        versions: resolve(__dirname, "src/pages/version-main.ts"),
        "assist-project": resolve(__dirname, "src/pages/assist-project-main.ts"),
        "training-project": resolve(__dirname, "src/pages/training-project-main.ts"),
        "training-run": resolve(__dirname, "src/pages/training-run-main.ts"),
        "trained-model": resolve(__dirname, "src/pages/trained-model-main.ts"),
        "label-next": resolve(__dirname, "src/pages/label-next-main.ts"),
        "label-errors": resolve(__dirname, "src/pages/label-errors-main.ts"),
      },
      output: {
        entryFileNames: "[name].js",
        chunkFileNames: "[name].js",
        assetFileNames: "[name][extname]",
      },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
