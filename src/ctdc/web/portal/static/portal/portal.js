// The portal's charts: Vega-Lite drawings of the rows each page already holds as tables (the page works without
// this script). Expressions run in vega-interpreter, so the Content-Security-Policy needs no 'unsafe-eval'.
// Selecting a bar, point, country or row follows its link; the page is fetched and swapped in place, the URL is
// pushed, and back/forward fetch the page of the URL they land on: a shared link reproduces the view.
import { expressionInterpreter } from './vendor/vega-interpreter.js';

const BLUE = '#0072B2';    // Okabe-Ito: distinguishable under every common colour-vision deficiency
const ORANGE = '#E69F00';  // the selected value
const TOPO = document.getElementById('portal-js').dataset.topo;
// No injected <style> elements (the CSP has no 'unsafe-inline'): embed and tooltip styles are in site.css.
const OPTIONS = {
  actions: false, ast: true, expr: expressionInterpreter, renderer: 'svg', defaultStyle: false,
  tooltip: { disableDefaultStyle: true },
};

function barSpec(title, rows) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: title, width: 'container', height: { step: 22 }, autosize: { type: 'fit-x', contains: 'padding' },
    data: { values: rows },
    mark: { type: 'bar', cursor: 'pointer' },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 180 } },
      x: { field: 'count', type: 'quantitative', title: null },
      color: { condition: { test: 'datum.selected', value: ORANGE }, value: BLUE },
      tooltip: [{ field: 'label', title: title }, { field: 'count', title: '#', format: ',' }],
    },
  };
}

function lineSpec(title, rows) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: title, width: 'container', height: 200,
    data: { values: rows },
    encoding: {
      x: { field: 'label', type: 'ordinal', title: null, sort: null },
      y: { field: 'count', type: 'quantitative', title: null },
      tooltip: [{ field: 'label', title: title }, { field: 'count', title: '#', format: ',' }],
    },
    layer: [
      { mark: { type: 'line', color: BLUE } },
      { mark: { type: 'point', filled: true, size: 80, cursor: 'pointer' },
        encoding: { color: { condition: { test: 'datum.selected', value: ORANGE }, value: BLUE } } },
    ],
  };
}

function mapSpec(title, rows, width) {
  const countries = { url: TOPO, format: { type: 'topojson', feature: 'countries' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // Equal Earth is about twice as wide as tall: a phone gets a low map, not a small one in a tall box.
    description: title, width: 'container', height: Math.round(Math.min(380, Math.max(160, width * 0.5))),
    projection: { type: 'equalEarth' },
    layer: [
      // Background countries: decoration, hidden from assistive technology (the table holds the numbers).
      { data: countries, mark: { type: 'geoshape', fill: '#e4e7eb', stroke: '#ffffff', strokeWidth: 0.5, aria: false } },
      {
        data: countries,
        transform: [
          { lookup: 'id', from: { data: { values: rows }, key: 'id', fields: ['count', 'label', 'href', 'selected'] } },
          { filter: 'isValid(datum.count)' },
        ],
        mark: { type: 'geoshape', stroke: '#ffffff', strokeWidth: 0.5, cursor: 'pointer' },
        encoding: {
          color: { field: 'count', type: 'quantitative', scale: { scheme: 'viridis', reverse: true }, title: null },
          strokeWidth: { condition: { test: 'datum.selected', value: 2.5 }, value: 0.5 },
          stroke: { condition: { test: 'datum.selected', value: ORANGE }, value: '#ffffff' },
          tooltip: [{ field: 'label', title: title }, { field: 'count', title: '#', format: ',' }],
        },
      },
    ],
  };
}

function flowSpec(title, rows, width) {
  // A two-column flow diagram: citizenships on the left, countries of exploitation on the right, one band each.
  const rank = (key) => {
    const total = new Map();
    rows.forEach((r) => total.set(r[key], (total.get(r[key]) || 0) + r.count));
    return new Map([...total.entries()].sort((a, b) => b[1] - a[1]).map(([k], i) => [k, i]));
  };
  // Label columns on both sides: up to 150 px each, less on a phone (long names are cut with an ellipsis).
  const side = Math.min(150, Math.floor(width * 0.34));
  const left = rank('from_label');
  const right = rank('to_label');
  const values = rows.map((r) => ({ ...r, y1: left.get(r.from_label), y2: right.get(r.to_label) }));
  const labels = (map, x, align) => ({
    data: { values: [...map.entries()].map(([label, y]) => ({ label, y })) },
    mark: { type: 'text', align, dx: align === 'right' ? -6 : 6, fontSize: 11, limit: side - 8 },
    encoding: { x: { datum: x, type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 'label' } },
  });
  const n = Math.max(left.size, right.size, 1);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: title, width: 'container', height: Math.max(120, n * 20),
    padding: { left: side, right: side + 20, top: 5, bottom: 5 },
    resolve: { scale: { x: 'shared', y: 'shared' } },
    encoding: {
      x: { type: 'quantitative', scale: { domain: [0, 1] }, axis: null },
      y: { type: 'quantitative', scale: { domain: [n - 0.5, -0.5] }, axis: null },
    },
    layer: [
      {
        data: { values },
        mark: { type: 'rule', color: BLUE, opacity: 0.55, cursor: 'pointer' },
        encoding: {
          x: { datum: 0, type: 'quantitative' }, x2: { datum: 1 },
          y: { field: 'y1', type: 'quantitative' }, y2: { field: 'y2' },
          strokeWidth: { field: 'count', type: 'quantitative', scale: { range: [1, 14] }, legend: null },
          tooltip: [{ field: 'from_label', title: '→' }, { field: 'to_label', title: '←' }, { field: 'count', title: '#', format: ',' }],
        },
      },
      labels(left, 0, 'right'),
      labels(right, 1, 'left'),
    ],
  };
}

function usageSpec(title, rows) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: title, width: 'container', height: 220,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'day', type: 'temporal', title: null },
      y: { field: 'count', type: 'quantitative', title: null },
      color: { field: 'kind', type: 'nominal', title: null, scale: { range: [BLUE, ORANGE, '#009E73'] } },
      tooltip: [{ field: 'day', type: 'temporal' }, { field: 'kind' }, { field: 'count', format: ',' }],
    },
  };
}

function routeSpec(title, rows, width) {
  // Corridors as straight segments between country centroids (origin -> transit -> destination), their width and
  // opacity following the protected count; the ends as dots. The table beside holds every number.
  const countries = { url: TOPO, format: { type: 'topojson', feature: 'countries' } };
  const ends = [];
  for (const r of rows) {
    ends.push({ lon: r.lon, lat: r.lat }, { lon: r.lon2, lat: r.lat2 });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: title, width: 'container', height: Math.round(Math.min(380, Math.max(160, width * 0.5))),
    projection: { type: 'equalEarth' },
    layer: [
      { data: countries, mark: { type: 'geoshape', fill: '#e4e7eb', stroke: '#ffffff', strokeWidth: 0.5, aria: false } },
      {
        data: { values: rows },
        mark: { type: 'rule', color: BLUE, strokeCap: 'round' },
        encoding: {
          longitude: { field: 'lon', type: 'quantitative' }, latitude: { field: 'lat', type: 'quantitative' },
          longitude2: { field: 'lon2' }, latitude2: { field: 'lat2' },
          strokeWidth: { field: 'count', type: 'quantitative', scale: { range: [1, 8] }, title: null },
          opacity: { field: 'count', type: 'quantitative', scale: { range: [0.45, 0.9] }, legend: null },
          tooltip: [{ field: 'label', title: title }, { field: 'count', title: '#', format: ',' }],
        },
      },
      {
        data: { values: ends },
        mark: { type: 'circle', color: ORANGE, size: 28, opacity: 1, aria: false },
        encoding: { longitude: { field: 'lon', type: 'quantitative' }, latitude: { field: 'lat', type: 'quantitative' } },
      },
    ],
  };
}

const SPECS = { bar: barSpec, line: lineSpec, map: mapSpec, flows: flowSpec, usage: usageSpec, routes: routeSpec };

function save(url, name) {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

async function draw(figure) {
  const data = figure.querySelector('script[type="application/json"]');
  const viz = figure.querySelector('.viz');
  if (!data || !viz) return;
  const rows = JSON.parse(data.textContent);
  const kind = figure.dataset.kind;
  const title = figure.querySelector('h2').textContent;
  if (!rows.length) return;  // nothing above the threshold: the table says so
  const result = await vegaEmbed(viz, SPECS[kind](title, rows, viz.clientWidth || 600), OPTIONS);
  const svg = viz.querySelector('svg');
  if (svg) {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', title);
  }
  result.view.addEventListener('click', (event, item) => {
    const href = item && item.datum && item.datum.href;
    if (href) go(href);
  });
  const table = figure.querySelector('details.as-table');
  if (table) table.open = false;
  const images = figure.querySelector('.image-downloads');
  if (images) {
    images.hidden = false;
    const name = `ctdc-${figure.dataset.chart}`;
    images.querySelector('[data-image="svg"]').addEventListener('click', async () => {
      const text = await result.view.toSVG();
      save(URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' })), `${name}.svg`);
    });
    images.querySelector('[data-image="png"]').addEventListener('click', async () => {
      save(await result.view.toImageURL('png', 2), `${name}.png`);
    });
  }
  figure.dataset.drawn = 'true';
}

async function go(url, push = true) {
  document.querySelector('main').dataset.ready = 'false';
  const response = await fetch(url, { headers: { Accept: 'text/html' } });
  const page = new DOMParser().parseFromString(await response.text(), 'text/html');
  document.querySelector('main').replaceWith(page.querySelector('main'));
  document.title = page.title;
  if (push) history.pushState({}, '', url);
  init();
}

function formUrl(form) {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData(form).entries()) if (v) params.append(k, v);
  const query = params.toString();
  return form.getAttribute('action') + (query ? `?${query}` : '');
}

function init() {
  const main = document.querySelector('main');
  main.querySelectorAll('a[data-nav]').forEach((a) => a.addEventListener('click', (e) => {
    e.preventDefault();
    go(a.href);
  }));
  const form = main.querySelector('form.filters');
  if (form) {
    form.addEventListener('change', () => go(formUrl(form)));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      go(formUrl(form));
    });
  }
  return Promise.all([...main.querySelectorAll('figure[data-chart]')].map(draw))
    .then(() => { main.dataset.ready = 'true'; });
}

window.addEventListener('popstate', () => go(location.href, false));
init();
