// A node:test reporter that writes one JSON line per finished test: its outcome, and for a skip the
// reason. scripts/run-tests.mjs reads the lines after the run and prints every skip with its
// reason, so a skipped test can never pass unnoticed (issue 15). Suites are not counted.
export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const d = event.data;
    if (d.details?.type === "suite") continue;
    const outcome =
      d.skip !== undefined
        ? "skipped"
        : d.todo !== undefined
          ? "todo"
          : event.type === "test:pass"
            ? "passed"
            : "failed";
    const reason = typeof d.skip === "string" ? d.skip : "";
    yield `${JSON.stringify({ outcome, name: d.name, file: d.file ?? "", reason })}\n`;
  }
}
