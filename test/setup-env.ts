// Every gateway the tests start must stay on this machine: @apollo/gateway >= 2.14 exports
// telemetry unless this is set (see README, "Telemetry").
process.env.APOLLO_TELEMETRY_DISABLED = '1';
