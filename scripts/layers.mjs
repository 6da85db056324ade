/**
 * The layer table of src/ (docs/ARCHITECTURE.md, "Layers"): which folder may import which.
 * Read by the `cairn/layers` lint rule (eslint.config.js) and by test/layers.test.ts, which
 * also sees dynamic `import()` and `import('…')` types, so CI fails on a new violation.
 */

/**
 * Higher ranks import lower ones: cli → commands → (deploy, serve, forge, metrics) →
 * (pipeline, modelkit, oci) → data → core. `index.ts` (the library API) sits just under cli.
 */
export const RANK = {
  core: 0,
  data: 1,
  pipeline: 2,
  modelkit: 2,
  oci: 2,
  serve: 3,
  metrics: 3,
  deploy: 3,
  forge: 3,
  commands: 4,
  'index.ts': 4.5,
  cli: 5,
};

/** The allowed edges between folders of the same rank, each with its reason. */
export const SIDEWAYS = [
  {
    from: 'modelkit',
    to: 'oci',
    why: 'a ModelKit is an OCI artifact: packing, reading and unpacking go through the store and the registry client',
  },
];

/**
 * Folders whose files are independent of each other: a file may import only the listed
 * siblings (the shared contract), never another sibling.
 */
export const SIBLINGS = {
  commands: ['context.ts', 'options.ts'],
};

/** Packages only some folders may use. */
export const PACKAGES = {
  commander: ['cli'],
};

/** The folder (or root file) of a path relative to src/. */
function layerOf(rel) {
  const first = rel.split('/')[0] ?? rel;
  return first;
}

/**
 * Why the file `from` (relative to src/, POSIX) may not import `specifier`, or undefined when it
 * may. Relative specifiers are resolved against `from`; `.js` names the `.ts` source.
 */
export function layerViolation(from, specifier) {
  const fromLayer = layerOf(from);
  if (!specifier.startsWith('.')) {
    const pkg = specifier.startsWith('@')
      ? specifier.split('/').slice(0, 2).join('/')
      : (specifier.split('/')[0] ?? specifier);
    const allowed = PACKAGES[pkg];
    if (allowed !== undefined && !allowed.includes(fromLayer)) {
      return `'${pkg}' may be used only in ${allowed.map((l) => `src/${l}/`).join(', ')}`;
    }
    return undefined;
  }
  const parts = from.split('/').slice(0, -1);
  for (const seg of specifier.split('/')) {
    if (seg === '.' || seg === '') continue;
    if (seg === '..') {
      if (parts.length === 0) return undefined; // outside src/: not a layer question
      parts.pop();
    } else parts.push(seg);
  }
  const to = parts.join('/').replace(/\.js$/, '.ts');
  const toLayer = layerOf(to);
  if (fromLayer === toLayer) {
    const siblings = SIBLINGS[fromLayer];
    if (siblings === undefined) return undefined;
    const name = to.slice(fromLayer.length + 1);
    if (to === from || siblings.includes(name)) return undefined;
    return `src/${fromLayer}/ files import only ${siblings.join(', ')} of their siblings, not ${name}: move what they share into a lower layer`;
  }
  const a = RANK[fromLayer];
  const b = RANK[toLayer];
  if (a === undefined || b === undefined) {
    const unknown = a === undefined ? fromLayer : toLayer;
    return `src/${unknown} is not in the layer table (scripts/layers.mjs): give it a rank`;
  }
  if (b < a) return undefined;
  if (SIDEWAYS.some((e) => e.from === fromLayer && e.to === toLayer)) return undefined;
  return b === a
    ? `${fromLayer} may not import ${toLayer} (same rank; allowed sideways edges: ${SIDEWAYS.map((e) => `${e.from} → ${e.to}`).join(', ')})`
    : `${fromLayer} may not import ${toLayer}: dependencies point downward (cli → commands → serve, deploy, forge, metrics → pipeline, modelkit, oci → data → core)`;
}
