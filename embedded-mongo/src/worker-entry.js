/*
 * Plain-JS bootstrap of the engine worker thread. Worker threads do not inherit the host's
 * TypeScript transform (jest's @swc/jest only transforms the test process, and a host run by
 * tsx may or may not pass its hooks on), so register tsx's CommonJS loader here and then load
 * the TypeScript worker module.
 */
'use strict';
// Load the (plain JS, ~300-file) dependencies before tsx's require hook is installed: through
// the hook they take about twice as long, and worker start-up time is mostly this.
require('bson');
require('mingo');
require('mingo/query');
require('mingo/updater');
require('mingo/core');
const fs = require('node:fs');
const path = require('node:path');
if (fs.existsSync(path.join(__dirname, 'worker.js'))) {
  // compiled build (tsc output next to this file): no TypeScript loader needed
  require('./worker.js');
} else {
  require('tsx/cjs/api').register();
  require('./worker.ts');
}
