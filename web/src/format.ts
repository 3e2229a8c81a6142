// Human formatting for the dashboard: relative times that tick, sizes, durations, values with units.
import type { ReadingValue } from "../../server/readings.ts";

export function duration(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

export function ago(ts: number | null, now = Date.now()): string {
  if (ts === null) return "never";
  const sec = Math.round((now - ts) / 1000);
  if (sec < 1) return "just now";
  return `${duration(sec)} ago`;
}

export function until(ts: number, now = Date.now()): string {
  const sec = Math.round((ts - now) / 1000);
  return sec <= 0 ? "now" : `in ${duration(sec)}`;
}

export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function clock(ts: number): string {
  return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function value(v: ReadingValue | undefined, unit?: string): string {
  if (v === undefined) return "–";
  let text: string;
  if (typeof v === "number") text = Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 100 ? 1 : 2);
  else if (typeof v === "boolean") text = v ? "on" : "off";
  else if (typeof v === "string") text = v;
  else text = JSON.stringify(v);
  return unit ? `${text} ${unit}` : text;
}

export function hex(address: number): string {
  return `0x${address.toString(16).padStart(2, "0")}`;
}
