// "Update from file" in the Appliance card (admin only; hidden for viewers, and the server
// answers 403 anyway). The package goes as the raw request body to POST /api/update/upload
// (server/http/updateUpload.ts) through XMLHttpRequest, whose upload events give the progress
// (fetch reports none for a request body). The server's refusals are shown as it words them.
import type { UpdateStatus } from "../../server/events.ts";
import type { UploadReply } from "../../server/http/protocol.ts";
import { byTestId, setText } from "./dom.ts";
import { bytes } from "./format.ts";

const SHA256 = /^[0-9a-f]{64}$/;

function errorOf(xhr: XMLHttpRequest): string {
  try {
    const body: unknown = JSON.parse(xhr.responseText);
    if (typeof body === "object" && body !== null && "error" in body) return String(body.error);
  } catch {
    /* not JSON: say the status */
  }
  return `the appliance answered HTTP ${xhr.status}`;
}

export function wireUpdateUpload(): void {
  const form = byTestId<HTMLFormElement>("update-upload-form");
  const fileInput = byTestId<HTMLInputElement>("update-file");
  const shaInput = byTestId<HTMLInputElement>("update-sha256");
  const button = byTestId<HTMLButtonElement>("update-upload");
  const progress = byTestId<HTMLProgressElement>("update-progress");

  const busy = (on: boolean): void => {
    button.disabled = on;
    fileInput.disabled = on;
    shaInput.disabled = on;
  };
  const failed = (message: string): void => {
    busy(false);
    progress.hidden = true;
    form.dataset["state"] = "failed";
    setText("update-upload-status", "");
    setText("update-upload-error", message);
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (form.dataset["state"] === "uploading" || form.dataset["state"] === "restarting") return;
    const file = fileInput.files?.[0];
    if (!file) return failed("Choose the package file (.tar.gz from npm run package).");
    const sha = shaInput.value.trim().toLowerCase();
    if (sha && !SHA256.test(sha)) return failed("The SHA-256 must be 64 hexadecimal digits (or left empty).");
    setText("update-upload-error", "");
    form.dataset["state"] = "uploading";
    busy(true);
    progress.hidden = false;
    progress.value = 0;
    setText("update-upload-status", `Uploading ${file.name} (${bytes(file.size)})…`);

    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/update/upload${sha ? `?sha256=${sha}` : ""}`);
    xhr.setRequestHeader("content-type", "application/gzip");
    xhr.setRequestHeader("accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable || e.total === 0) return;
      progress.value = Math.floor((100 * e.loaded) / e.total);
      progress.dataset["percent"] = String(progress.value);
      setText("update-upload-status", `Uploading: ${bytes(e.loaded)} of ${bytes(e.total)} (${progress.value} %)`);
    });
    xhr.upload.addEventListener("load", () => {
      progress.value = 100;
      progress.dataset["percent"] = "100";
      setText("update-upload-status", "Uploaded; checking the package (checksum, CPU, Node ABI)…");
    });
    xhr.addEventListener("load", () => {
      if (xhr.status !== 202) return failed(`Not updated: ${errorOf(xhr)}`);
      const reply = JSON.parse(xhr.responseText) as UploadReply;
      form.dataset["state"] = "restarting";
      progress.hidden = true;
      // The appliance restarts now; the page reconnects by itself when the new release is up.
      setText(
        "update-upload-status",
        `Restarting to apply ${reply.version} (SHA-256 ${reply.sha256}). The page reconnects when it is back.`,
      );
    });
    xhr.addEventListener("error", () => failed("The upload did not get through: the appliance cannot be reached."));
    xhr.addEventListener("abort", () => failed("The upload was stopped."));
    xhr.send(file);
  });
}

/**
 * Each snapshot: no form where updates are off (gateway.ota.enabled); after the restart it asked
 * for, the form says what runs now and takes the next file.
 */
export function showUpdateUpload(u: UpdateStatus | null | undefined): void {
  const form = byTestId<HTMLFormElement>("update-upload-form");
  form.hidden = !u;
  if (!u || form.dataset["state"] !== "restarting" || u.state === "UPDATING") return;
  delete form.dataset["state"];
  byTestId<HTMLButtonElement>("update-upload").disabled = false;
  byTestId<HTMLInputElement>("update-file").disabled = false;
  byTestId<HTMLInputElement>("update-sha256").disabled = false;
  setText("update-upload-status", `Restarted: ${u.running.version} runs now${u.trial ? " (on trial)" : ""}.`);
}

/** Viewers get no upload control (also hidden by CSS through .admin-only). */
export function allowUpdateUpload(admin: boolean): void {
  byTestId<HTMLButtonElement>("update-upload").disabled = !admin;
  byTestId<HTMLInputElement>("update-file").disabled = !admin;
}
