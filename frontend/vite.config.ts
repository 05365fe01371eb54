/// <reference types="vitest/config" />
import { copyFileSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { type Plugin, defineConfig } from "vite";

// onnxruntime-web's wasm runtime for the SAM worker (src/sam/samWorker.ts), served from our own build: the plant
// has no internet, so no CDN. Its non-bundled entry loads these two files from env.wasm.wasmPaths (build/ort/);
// the threaded .mjs also starts wasm's threads from itself.
const ORT_DIST = resolve(__dirname, "node_modules/onnxruntime-web/dist");
const ORT_FILES = ["ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"];

function ortWasmCopy(): Plugin {
  return {
    name: "ort-wasm-copy",
    apply: "build",
    writeBundle(options) {
      const target = resolve(options.dir!, "ort");
      mkdirSync(target, { recursive: true });
      for (const name of ORT_FILES) copyFileSync(resolve(ORT_DIST, name), resolve(target, name));
    },
  };
}

// The bundle is served by Django as static files: {% static 'frontend/build/editor.js' %}, one entry a page. File names carry no
// hash (Django's static storage adds its own in production), so the templates name them directly.
export default defineConfig({
  base: "/static/frontend/build/",
  plugins: [ortWasmCopy()],
  resolve: {
    // The entry that loads its wasm files from wasmPaths, rather than the bundle that embeds the loader.
    alias: { "onnxruntime-web/wasm": resolve(ORT_DIST, "ort.wasm.min.mjs") },
  },
  worker: {
    format: "es",
    rollupOptions: { output: { entryFileNames: "[name].js", chunkFileNames: "[name].js", assetFileNames: "[name][extname]" } },
  },
  build: {
    // DEFECTLAB_EDITOR_BUILD_DIR: docker-compose builds into a volume (the source is mounted read-only there).
    outDir: process.env.DEFECTLAB_EDITOR_BUILD_DIR ?? resolve(__dirname, "static/frontend/build"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    manifest: "manifest.json", // read by {% page_script %}: the chunks each page preloads

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
