/*
 * Plain-JS bootstrap of the disclosure worker thread (lib/disclosure.ts `suppressionPatternAsync`,
 * run by piscina). Worker threads do not inherit the host's TypeScript transform (jest's @swc/jest
 * only transforms the test process; the pool starts threads without the host's loader flags), so
 * register tsx's CommonJS loader here and then load the TypeScript worker module.
 */
'use strict';
// Plain JS dependencies first: through the loader's hook they would load slower.
require('piscina');
const fs = require('node:fs');
const path = require('node:path');
if (fs.existsSync(path.join(__dirname, 'disclosure-worker.js'))) {
  // compiled build (tsc output next to this file): no TypeScript loader needed
  module.exports = require('./disclosure-worker.js');
} else {
  require('tsx/cjs/api').register();
  module.exports = require('./disclosure-worker.ts');
}
