// A small live chart of one sensor value (uPlot, bundled: the Pi may be offline).
import uPlot from "uplot";
import { HISTORY_MS } from "./history.ts";

const HEIGHT = 120;

function xRange(dataMin: number | null): [number, number] {
  const now = Date.now() / 1000;
  const start = dataMin === null || !Number.isFinite(dataMin) ? now - 60 : Math.min(dataMin, now - 60);
  return [Math.max(start, now - HISTORY_MS / 1000), now];
}

export class SparkChart {
  readonly root: HTMLElement;
  #plot: uPlot | null = null;
  #label = "";
  #pending: [number[], number[]] | null = null;
  #frame = 0;
  #resize: ResizeObserver;

  constructor(root: HTMLElement) {
    this.root = root;
    this.#resize = new ResizeObserver(() => {
      if (this.#plot) this.#plot.setSize({ width: this.#width(), height: HEIGHT });
    });
    this.#resize.observe(root);
  }

  #width(): number {
    return Math.max(120, Math.floor(this.root.clientWidth));
  }

  /** Shows this series; redraws are batched to one per animation frame. */
  show(label: string, data: [number[], number[]]): void {
    if (label !== this.#label || !this.#plot) {
      this.#plot?.destroy();
      this.#label = label;
      this.#plot = new uPlot(
        {
          width: this.#width(),
          height: HEIGHT,
          legend: { show: false },
          cursor: { show: true, drag: { x: false, y: false } },
          // The window ends now and spans the kept history (at least a minute, at most 10 min), so
          // a single reading does not stretch the axis over years.
          scales: { x: { time: true, range: (_u, min) => xRange(min) } },
          axes: [{ size: 28, font: "11px system-ui" }, { size: 54, font: "11px system-ui" }],
          series: [{}, { label, stroke: "#2f7ed8", width: 2, points: { show: false } }],
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
