/*
 * Plain-JS bootstrap of the engine worker thread. Worker threads do not inherit the host's
 * TypeScript transform (jest's @swc/jest only transforms the test process, and a host run by
 * tsx may or may not pass its hooks on), so register tsx's CommonJS loader here and then load
 * the TypeScript worker module.
 */
'use strict';
require('tsx/cjs/api').register();
require('./worker.ts');
