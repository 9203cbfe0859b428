'use strict';
// Makes `serverless invoke local` work with the `.mjs` bundles serverless-esbuild writes, and
// never hang. osls loads a local handler with require() of `<handler>` or `<handler>.cjs` only,
// so an `.mjs` bundle is "not found"; after that failure serverless-esbuild's after-hook (which
// disposes its esbuild contexts) never runs, and the live esbuild child keeps the process up.
// Here: a `.cjs` shim beside each `.mjs` bundle (require() of an ES module: Node >= 20.19), and
// the esbuild contexts disposed as soon as the bundles exist, so any failure exits at once.
// The shim lives in serverless-esbuild's build folder, which `package` zips: it is removed when
// the command exits, and any left over (a killed run) before the next package.
const fs = require('node:fs');
const path = require('node:path');
const process = require('node:process');

const SHIM_MARK = '// serverless invoke local shim (deploy/invoke-local.cjs)\n';

class InvokeLocalEsm {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options;
    // Runs after serverless-esbuild's own `before:invoke:local:invoke` (plugins listed after it).
    this.hooks = {
      'before:invoke:local:invoke': () => this.prepare(),
      'before:package:cleanup': () => this.removeLeftoverShims(),
      'before:deploy:function:initialize': () => this.removeLeftoverShims(),
    };
  }

  esbuildPlugin() {
    return this.serverless.pluginManager.plugins.find((p) => typeof p.disposeContexts === 'function' && p.buildDirPath);
  }

  async prepare() {
    const esbuild = this.esbuildPlugin();
    if (esbuild) await esbuild.disposeContexts();
    if (!process.features?.require_module) {
      throw new this.serverless.classes.Error(
        `serverless invoke local needs Node >= 20.19 to load the functions' ES module bundles (this is ${process.version}). ` +
          'Use `npm run local` (emulated AWS) or the CLI (`npx rds-nlb-sync sync --dry-run`).',
      );
    }
    const fn = this.serverless.service.getFunction(this.options.function);
    const handlerFile = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
    const serviceDir = this.serverless.serviceDir ?? this.serverless.config.servicePath;
    const base = path.join(serviceDir, handlerFile);
    if (!fs.existsSync(`${base}.mjs`) || fs.existsSync(`${base}.cjs`) || fs.existsSync(`${base}.js`)) return;
    const shim = `${base}.cjs`;
    fs.writeFileSync(shim, `${SHIM_MARK}module.exports = require('./${path.basename(base)}.mjs');\n`);
    process.once('exit', () => fs.rmSync(shim, { force: true }));
  }

  removeLeftoverShims() {
    const buildDir = this.esbuildPlugin()?.buildDirPath ?? path.join(this.serverless.serviceDir ?? '.', '.esbuild', '.build');
    if (!fs.existsSync(buildDir)) return;
    for (const entry of fs.readdirSync(buildDir, { recursive: true })) {
      const file = path.join(buildDir, String(entry));
      if (file.endsWith('.cjs') && fs.readFileSync(file, 'utf8').startsWith(SHIM_MARK)) fs.rmSync(file);
    }
  }
}

module.exports = InvokeLocalEsm;
