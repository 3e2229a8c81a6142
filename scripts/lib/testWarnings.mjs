// Preloaded into every test process by scripts/run-tests.mjs (issue 13: test output noise).
// Each test file runs in its own process, so Node printed "ExperimentalWarning: The MockTimers API
// is an experimental feature" once per file that uses a fake clock, which the developers' guide
// asks for. That one warning is known and chosen; every other warning still prints.
const emitWarning = process.emitWarning;
process.emitWarning = function emitWarningExceptMockTimers(warning, ...rest) {
  const text = typeof warning === "string" ? warning : warning?.message;
  const type = typeof rest[0] === "string" ? rest[0] : (rest[0]?.type ?? warning?.name);
  if (
    type === "ExperimentalWarning" &&
    typeof text === "string" &&
    text.startsWith("The MockTimers API is an experimental feature")
  )
    return;
  return Reflect.apply(emitWarning, process, [warning, ...rest]);
};
