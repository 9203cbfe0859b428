// esbuild plugin: lets esbuild tree-shake the SDK's generated schema files.
//
// Since the SDK moved to schema-based serialization, each client has one dist-es/schemas/schemas_0.js
// holding every shape of the service (EC2: 1.3 MB) as `export var X$ = [...]`, with member traits
// written as computed keys: `{ [_xN]: _m }` where `const _xN = "xmlName"`. esbuild inlines only
// short constants, and an object literal with a computed key it cannot see through counts as a
// possible side effect, so it keeps about two thirds of all shapes even when one command is
// imported (upstream: aws/aws-sdk-js-v3#7607). Replacing such a key by the constant's string
// literal changes nothing at run time (the constants are `const`) and lets esbuild drop the
// unused shapes. A file whose shape differs is left as it is: the bundle is then just bigger.
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

const SCHEMA_FILE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

export const inlineSchemaKeys: Plugin = {
  name: 'inline-schema-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMA_FILE }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      const strings = new Map<string, string>();
      for (const [, name, literal] of source.matchAll(/^const (_\w+) = ("[^"\\\n]*");$/gm)) {
        if (name && literal) strings.set(name, literal);
      }
      const contents = source.replace(/\[(_\w+)\]:/g, (key, name: string) => {
        const literal = strings.get(name);
        return literal ? `[${literal}]:` : key;
      });
      return { contents, loader: 'js' };
    });
  },
};
