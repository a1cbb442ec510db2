/**
 * 12-month trend charts with Apache ECharts, importing only what is used (line and bar charts,
 * grid, tooltip, legend, canvas renderer). Each chart container carries `data-months` and
 * `data-series` (the plotted values, as JSON) for the tests, and `data-rendered` once drawn.
 */
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { h } from './figures';

echarts.use([LineChart, BarChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

export interface Series {
  name: string;
  type: 'line' | 'bar';
  data: (number | null)[];
  /** 0: left axis, 1: right axis. */
  axis?: 0 | 1;
}

export interface TrendSpec {
  id: string;
  title: string;
  months: string[];
  series: Series[];
  /** Axis labels, e.g. ['件', '%']. */
  axes?: [string, string?];
}

const live = new Set<echarts.ECharts>();

/** Disposes the charts of the previous view. */
export function disposeCharts(): void {
  for (const c of live) c.dispose();
  live.clear();
}

window.addEventListener('resize', () => live.forEach((c) => c.resize()));

/** A chart card; resolves when the chart has finished drawing. */
export function trendChart(spec: TrendSpec): { el: HTMLElement; rendered: Promise<void> } {
  const canvas = h('div', { class: 'chart', id: `chart-${spec.id}` });
  canvas.dataset.months = JSON.stringify(spec.months);
  canvas.dataset.series = JSON.stringify(spec.series.map((s) => ({ name: s.name, data: s.data })));
  const el = h('section', { class: 'card chart-card' }, h('h3', null, spec.title), canvas);
  const rendered = new Promise<void>((resolve) => {
    // Drawn once the card is in the document (a size is needed).
    requestAnimationFrame(() => {
      const chart = echarts.init(canvas, undefined, { renderer: 'canvas' });
      live.add(chart);
      chart.on('finished', () => {
        canvas.dataset.rendered = 'true';
        resolve();
      });
      const twoAxes = spec.series.some((s) => s.axis === 1);
      chart.setOption({
        animation: false,
        tooltip: { trigger: 'axis' },
        legend: { top: 0, textStyle: { fontSize: 11 } },
        grid: { left: 48, right: twoAxes ? 48 : 16, top: 32, bottom: 28 },
        xAxis: { type: 'category', data: spec.months.map((m) => m.slice(2)) },
        yAxis: [
          { type: 'value', name: spec.axes?.[0] ?? '', nameTextStyle: { fontSize: 10 } },
          ...(twoAxes ? [{ type: 'value', name: spec.axes?.[1] ?? '', nameTextStyle: { fontSize: 10 }, splitLine: { show: false } }] : []),
        ],
        series: spec.series.map((s) => ({
          name: s.name,
          type: s.type,
          data: s.data,
          yAxisIndex: s.axis ?? 0,
          connectNulls: true,
          smooth: false,
          showSymbol: s.type === 'line',
        })),
      });
    });
  });
  return { el, rendered };
}
