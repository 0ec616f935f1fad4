// Copy the dashboard's browser assets from node_modules into the Python package.
//
//   cd web && npm ci && npm run vendor
//
// The dashboard loads nothing from the internet at run time: MapLibre GL JS and the Natural Earth
// country outlines (world-atlas) are served from src/cleanpath/service/static/vendor/, each next to
// its licence. The outlines are converted here from TopoJSON to GeoJSON with topojson-client, so the
// browser hands a URL to MapLibre, whose worker fetches and parses it off the page's main thread.
// node_modules is not committed; the copied files are. VERSIONS.json records what was copied
// (package, version, licence, files) so a reviewer can check provenance.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const topojson = require("topojson-client");

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const out = join(here, "..", "src", "cleanpath", "service", "static", "vendor");

// package -> files to copy (relative to the package directory); the first existing licence file is added.
const ASSETS = {
  "maplibre-gl": ["dist/maplibre-gl.mjs", "dist/maplibre-gl-worker.mjs", "dist/maplibre-gl.css"],
  // 1:50m keeps coastlines recognisable at country zoom; 1:10m would be five times larger.
  "world-atlas": ["README.md"],
};
const LICENCES = ["LICENSE.txt", "LICENSE", "LICENSE.md"];

rmSync(out, { recursive: true, force: true });
const versions = {};
for (const [pkg, files] of Object.entries(ASSETS)) {
  const src = join(modules, pkg);
  const meta = JSON.parse(readFileSync(join(src, "package.json"), "utf8"));
  const licence = LICENCES.find((f) => existsSync(join(src, f)));
  if (!licence) throw new Error(`${pkg}: no licence file found`);
  const dest = join(out, pkg);
  mkdirSync(dest, { recursive: true });
  const copied = [];
  for (const f of [...files, licence]) {
    const name = f.split("/").pop();
    copyFileSync(join(src, f), join(dest, name));
    copied.push(name);
  }
  versions[pkg] = { version: meta.version, license: meta.license, homepage: meta.homepage ?? null, files: copied };
}
// Countries (polygons, for the land fill) and their shared borders (lines), coordinates rounded to
// 0.001 degree (about 100 m, finer than the 1:50m source's own accuracy).
const topo = JSON.parse(readFileSync(join(modules, "world-atlas", "countries-50m.json"), "utf8"));
const round = (key, v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v);
const atlas = join(out, "world-atlas");
writeFileSync(join(atlas, "countries-50m.geojson"),
  JSON.stringify(topojson.feature(topo, topo.objects.countries), round));
writeFileSync(join(atlas, "borders-50m.geojson"),
  JSON.stringify(topojson.mesh(topo, topo.objects.countries, (a, b) => a !== b), round));
versions["world-atlas"].files.push("countries-50m.geojson", "borders-50m.geojson");
versions["world-atlas"].data = "Natural Earth 1:50m Admin 0 countries, version 4.1.0 (public domain), converted from "
  + `world-atlas's countries-50m.json with topojson-client ${JSON.parse(readFileSync(join(modules, "topojson-client", "package.json"), "utf8")).version}`;
writeFileSync(join(out, "VERSIONS.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`copied ${Object.keys(versions).join(", ")} to ${out}`);
