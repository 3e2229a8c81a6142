// Login and first-run setup forms.
import type { Role } from "../../server/http/protocol.ts";
import { api } from "./api.ts";
import { byTestId, detached, setText } from "./dom.ts";

export type OnAuthenticated = (role: Role) => void;

function busy(form: HTMLFormElement, on: boolean): void {
  for (const b of form.querySelectorAll("button")) b.disabled = on;
}

export function wireLoginForm(onAuthenticated: OnAuthenticated): void {
  const form = byTestId<HTMLFormElement>("login-form");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const password = byTestId<HTMLInputElement>("login-password").value;
    if (!password) return setText("login-error", "Enter the password.");
    busy(form, true);
    setText("login-error", "");
    detached(
      "login",
      api.login(password).then((r) => {
        busy(form, false);
        if (r.ok) {
          byTestId<HTMLInputElement>("login-password").value = "";
          onAuthenticated(r.value.role);
        } else setText("login-error", r.status === 401 ? "Wrong password." : r.error);
      }),
    );
  });
}

export function wireSetupForm(onAuthenticated: OnAuthenticated): void {
  const form = byTestId<HTMLFormElement>("setup-form");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const code = byTestId<HTMLInputElement>("setup-code").value.trim();
    const password = byTestId<HTMLInputElement>("setup-password").value;
    const confirm = byTestId<HTMLInputElement>("setup-confirm").value;
    if (!code) return setText("setup-error", "Enter the setup code from the appliance log.");
    if (password.length < 8) return setText("setup-error", "The password needs at least 8 characters.");
    if (password !== confirm) return setText("setup-error", "The two passwords differ.");
    busy(form, true);
    setText("setup-error", "");
    detached(
      "setup",
      api.setup(code, password).then((r) => {
        busy(form, false);
        if (r.ok) {
          form.reset();
          onAuthenticated(r.value.role);
        } else setText("setup-error", r.error);
      }),
    );
  });
}
