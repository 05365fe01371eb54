/** Vite's `import url from "./x.ts?worker&url"`: the built worker's URL (the worker is bundled, not started). */
declare module "*?worker&url" {
  const url: string;
  export default url;
}
