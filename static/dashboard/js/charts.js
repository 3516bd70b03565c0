// Gráficos com Chart.js (vendorizado em /static/vendor/chartjs, global window.Chart).
import { gettext } from "./i18n.js";
import { formatInt, formatTick, formatValue } from "./format.js";

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function baseOptions() {
  const text = cssVar("--muted");
  const grid = cssVar("--chart-grid");
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: "index", intersect: false },
    plugins: { legend: { labels: { color: text, boxWidth: 12 } } },
    scales: {
      x: { ticks: { color: text, maxRotation: 0, autoSkipPadding: 12 }, grid: { color: grid } },
      y: { ticks: { color: text }, grid: { color: grid }, beginAtZero: true },
    },
  };
}

export class Charts {
  constructor({ seriesCanvas, typesCanvas, onTypeClick }) {
    this.available = typeof window.Chart === "function";
    if (!this.available) return;
    const color1 = cssVar("--chart-1");
    const color2 = cssVar("--chart-2");
    const seriesOptions = baseOptions();
    seriesOptions.scales.y.title = { display: true, text: gettext("Eventos"), color: cssVar("--muted") };
    seriesOptions.scales.y1 = {
      position: "right",
      beginAtZero: true,
      grid: { drawOnChartArea: false },
      ticks: { color: cssVar("--muted") },
      title: { display: true, text: gettext("Valor"), color: cssVar("--muted") },
    };
    seriesOptions.plugins.tooltip = {
      callbacks: {
        label: (item) =>
          `${item.dataset.label}: ${item.datasetIndex === 0 ? formatInt(item.parsed.y) : formatValue(item.parsed.y)}`,
      },
    };
    this.series = new window.Chart(seriesCanvas, {
      type: "bar",
      data: {
        labels: [],
        datasets: [
          { type: "bar", label: gettext("Eventos"), data: [], backgroundColor: color1, yAxisID: "y", order: 2 },
          {
            type: "line",
            label: gettext("Valor"),
            data: [],
            borderColor: color2,
            backgroundColor: color2,
            pointRadius: 0,
            borderWidth: 2,
            tension: 0.25,
            yAxisID: "y1",
            order: 1,
          },
        ],
      },
      options: seriesOptions,
    });

    const typesOptions = baseOptions();
    typesOptions.indexAxis = "y";
    typesOptions.plugins.legend = { display: false };
    typesOptions.scales.x.beginAtZero = true;
    typesOptions.onClick = (_event, elements) => {
      if (elements.length && onTypeClick) onTypeClick(this.types.data.labels[elements[0].index]);
    };
    this.types = new window.Chart(typesCanvas, {
      type: "bar",
      data: { labels: [], datasets: [{ label: gettext("Eventos"), data: [], backgroundColor: [] }] },
      options: typesOptions,
    });
  }

  updateSeries(overview) {
    if (!this.available) return;
    const start = Date.parse(overview.window.from);
    const end = Date.parse(overview.window.to);
    const span = (end - start) / 1000;
    this.series.data.labels = overview.points.map((point) => formatTick(point.t, overview.interval, span));
    this.series.data.datasets[0].data = overview.points.map((point) => point.count);
    const hasValue = overview.points.some((point) => point.sum !== null);
    this.series.data.datasets[1].data = hasValue ? overview.points.map((point) => point.sum) : [];
    this.series.data.datasets[1].hidden = !hasValue;
    this.series.options.scales.y1.display = hasValue;
    this.series.update();
  }

  updateTypes(rows, selectedType) {
    if (!this.available) return;
    const color = cssVar("--chart-1");
    const highlight = cssVar("--chart-2");
    this.types.data.labels = rows.map((row) => row.type);
    this.types.data.datasets[0].data = rows.map((row) => row.count);
    this.types.data.datasets[0].backgroundColor = rows.map((row) => (row.type === selectedType ? highlight : color));
    this.types.update();
  }
}
