// Validates FHIR R4 resources with FHIR.js (the npm `fhir` package and its bundled R4
// definitions). Reads a JSON array of resources on stdin; writes, for each, the error and
// warning messages FHIR.js reports, as a JSON array of {valid, messages}.
const { Fhir } = require("fhir");

const fhir = new Fhir();
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const results = JSON.parse(input).map((resource) => {
    const result = fhir.validate(resource, { errorOnUnexpected: true });
    const messages = result.messages.filter((m) => ["error", "warning"].includes(m.severity));
    return { valid: result.valid, messages };
  });
  process.stdout.write(JSON.stringify(results));
});
