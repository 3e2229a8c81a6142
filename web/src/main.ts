// Dashboard entry point (placeholder until the page lands).
document.body.dataset["ready"] = "1";
