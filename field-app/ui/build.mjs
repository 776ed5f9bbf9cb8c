// Builds dist/: app.js (src/main.ts bundled by esbuild), index.html and app.css as they are.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist", { recursive: true });
await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  outfile: "dist/app.js",
  format: "iife",
  target: ["es2020"],
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
});
copyFileSync("src/index.html", "dist/index.html");
copyFileSync("src/app.css", "dist/app.css");
console.log("built dist/index.html, dist/app.js, dist/app.css");
