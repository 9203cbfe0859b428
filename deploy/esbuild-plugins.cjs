// esbuild plugins of the deployed bundles (serverless.yml custom.esbuild.plugins; the benchmark
// builds with the same file).
//
// inline-schema-keys: lets esbuild tree-shake the AWS SDK's generated schema files. Each client
// keeps every shape of its service in one dist-es/schemas/schemas_0.js (EC2: 1.3 MB) as
// `export var X$ = [...]`, with member traits written as computed keys `{ [_xN]: _m }` where
// `const _xN = "xmlName"`. esbuild treats an object literal with a computed key it cannot see
// through as a possible side effect and keeps about two thirds of all shapes even when one
// command is imported (aws/aws-sdk-js-v3#7607). Replacing such a key by the constant's string
// literal changes nothing at run time (the constants are `const` strings) and lets esbuild drop
// the unused shapes: the accept bundle goes from ~820 KB to ~290 KB. A file of another shape is
// left as it is: the bundle is then only bigger.
const { readFile } = require('node:fs/promises');

const SCHEMA_FILE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/** @type {import('esbuild').Plugin} */
const inlineSchemaKeys = {
  name: 'inline-schema-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMA_FILE }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      const strings = new Map();
      for (const [, name, literal] of source.matchAll(/^const (_\w+) = ("[^"\\\n]*");$/gm)) strings.set(name, literal);
      const contents = source.replace(/\[(_\w+)\]:/g, (key, name) => (strings.has(name) ? `[${strings.get(name)}]:` : key));
      return { contents, loader: 'js' };
    });
  },
};

module.exports = [inlineSchemaKeys];
