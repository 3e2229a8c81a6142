// A small chart of one device value over the picked range (uPlot, bundled: the Pi may be offline).
import uPlot from "uplot";

const HEIGHT = 140;
const DAY_S = 86_400;

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** Axis labels in hours and minutes (24 h clock); over several days the weekday goes in front. */
export function timeLabel(sec: number, spanSec: number): string {
  const d = new Date(sec * 1000);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return spanSec > 1.5 * DAY_S ? `${d.toLocaleDateString([], { weekday: "short" })} ${hm}` : hm;
}

/** The y axis as wide as its longest label (uPlot's fixed 50 px clipped "1013.35" to "013.35"). */
function axisSize(self: uPlot, values: string[] | null, axisIdx: number, cycleNum: number): number {
  const axis = self.axes[axisIdx];
  if (!axis) return 50;
  if (cycleNum > 1) return (axis as { _size?: number })._size ?? 50;
  let size = (axis.ticks?.size ?? 10) + (axis.gap ?? 5) + 4;
  const longest = (values ?? []).reduce((a, v) => (v.length > a.length ? v : a), "");
  if (longest) {
    self.ctx.font = (axis.font as unknown as string[] | string | undefined)?.[0] ?? "11px system-ui";
    size += self.ctx.measureText(longest).width / devicePixelRatio;
  }
  return Math.ceil(size);
}

/** A colour of the page's theme (light or dark, style.css :root); read from the root because a new card is not in the document yet. */
function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export class SparkChart {
  readonly root: HTMLElement;
  #plot: uPlot | null = null;
  #label = "";
  #pending: [number[], number[]] | null = null;
  #frame = 0;
  #resize: ResizeObserver;
  #rangeMs: () => number;

  constructor(root: HTMLElement, rangeMs: () => number) {
    this.root = root;
    this.#rangeMs = rangeMs;
    this.#resize = new ResizeObserver(() => {
      if (this.#plot) this.#plot.setSize({ width: this.#width(), height: HEIGHT });
    });
    this.#resize.observe(root);
  }

  #width(): number {
    return Math.max(120, Math.floor(this.root.clientWidth));
  }

  #mark(data: [number[], number[]]): void {
    // Hooks for the end-to-end tests: how many points, and from when.
    this.root.dataset["points"] = String(data[0].length);
    this.root.dataset["firstTs"] = data[0].length ? String(Math.round((data[0][0] as number) * 1000)) : "";
  }

  /** Shows this series; redraws are batched to one per animation frame. */
  show(label: string, data: [number[], number[]], rebuild = false): void {
    this.#mark(data);
    if (rebuild || label !== this.#label || !this.#plot) {
      this.#plot?.destroy();
      this.#label = label;
      const text = cssVar("--muted", "#64748b");
      const grid = cssVar("--line", "#e2e8f0");
      const accent = cssVar("--accent", "#2f7ed8");
      const span = this.#rangeMs() / 1000;
      this.#plot = new uPlot(
        {
          width: this.#width(),
          height: HEIGHT,
          legend: { show: false },
          cursor: { show: true, drag: { x: false, y: false } },
          // The window is the picked range ending now, so the x axis means the same on every card.
          scales: {
            x: { time: true, range: () => [Date.now() / 1000 - span, Date.now() / 1000] },
            // Around the data, not from zero: a temperature of 21.5 should not sit on a 0-40 axis.
            y: { range: (_u, min, max) => (min === max ? [min - 1, max + 1] : uPlot.rangeNum(min, max, 0.1, true)) },
          },
          axes: [
            {
              size: 28,
              font: "11px system-ui",
              stroke: text,
              grid: { stroke: grid },
              ticks: { stroke: grid },
              values: (_u, splits) => splits.map((s) => timeLabel(s, span)),
            },
            { size: axisSize, font: "11px system-ui", stroke: text, grid: { stroke: grid }, ticks: { stroke: grid } },
          ],
          series: [
            {},
            {
              label,
              stroke: accent,
              width: 2,
              points: { show: (u: uPlot) => (u.data[0]?.length ?? 0) < 60, size: 4 },
              spanGaps: false,
            },
          ],
        },
        data,
        this.root,
      );
      return;
    }
    this.#pending = data;
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      if (this.#pending && this.#plot) this.#plot.setData(this.#pending);
      this.#pending = null;
    });
  }

  destroy(): void {
    this.#resize.disconnect();
    if (this.#frame) cancelAnimationFrame(this.#frame);
    this.#plot?.destroy();
    this.#plot = null;
  }
}
