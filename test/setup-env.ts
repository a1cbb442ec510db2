// Every gateway the tests start must stay on this machine: @apollo/gateway >= 2.14 exports
// telemetry unless this is set (see README, "Telemetry").
process.env.APOLLO_TELEMETRY_DISABLED = '1';

// The suite runs on any date: `CLOCK_NOW=2028-02-29T12:00:00Z npm test` (or `npm run test:dates`)
// runs every test with the product's clock set to that instant (and stopped there with
// CLOCK_FREEZE=true). Unset: the real time.
import { applyClockConfig, loadConfig } from '../lib/config';

applyClockConfig(loadConfig());
