'use strict';
// Lets one serverless.yml serve osls (the v3 fork CI runs) and Serverless Framework v4.
// v4 bundles TypeScript with its own esbuild and refuses to run next to the serverless-esbuild
// plugin unless serverless.yml says `build: { esbuild: false }`. osls validates strictly and
// does not know the top-level `build` key, so this plugin declares it - and nothing else.
// Under v4, `build` is already part of the schema: the collision is expected and ignored.
class DeclareV4BuildKey {
  constructor(serverless) {
    const handler = serverless.configSchemaHandler;
    if (handler.schema?.properties?.build) return;
    try {
      handler.defineTopLevelProperty('build', {
        type: 'object',
        properties: { esbuild: { const: false } },
      });
    } catch (error) {
      if (error.code !== 'SCHEMA_COLLISION') throw error;
    }
  }
}

module.exports = DeclareV4BuildKey;
