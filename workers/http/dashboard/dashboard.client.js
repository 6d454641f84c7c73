/* The monitoring dashboard, in the browser: plain DOM and uPlot, no framework, no CDN. */
(() => {
  const $ = (id) => document.getElementById(id);
  const state = {
    token: sessionStorage.getItem('modelflare.token'),
    workspace: sessionStorage.getItem('modelflare.workspace') || '',
    model: null,
    window: '24h',
    charts: [],
  };
  const COLORS = {
    p50: '#2e90fa',
    p95: '#f79009',
    p99: '#d92d20',
    requests: '#f38020',
    error: '#d92d20',
    hit: '#12b76a',
    psi: '#7a5af8',
    ks: '#2e90fa',
    perf: '#12b76a',
  };

  async function api(path, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (state.token) headers.authorization = `Bearer ${state.token}`;
    if (state.workspace) headers['modelflare-workspace'] = state.workspace;
    const res = await fetch(path, { ...init, headers });
    const text = await res.text();
    const body = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const message = typeof body?.error === 'string' ? body.error : body?.error?.message || res.statusText;
      throw Object.assign(new Error(message), { status: res.status });
    }
    return body;
  }

  const fmt = {
    int: (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString()),
    pct: (n) => (n === null || n === undefined ? '–' : `${(n * 100).toFixed(1)}%`),
    ms: (n) => (n === null || n === undefined ? '–' : `${n < 10 ? n.toFixed(2) : Math.round(n)} ms`),
    num: (n) => (n === null || n === undefined ? '–' : n.toFixed(3)),
  };
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const child of children) node.append(child);
    return node;
  };

  function showSignedIn(on) {
    $('signin').hidden = on;
    $('app').hidden = !on;
    $('window').hidden = !on;
    $('signout').hidden = !on;
  }

  async function signIn(event) {
    event.preventDefault();
    $('signin-error').textContent = '';
    try {
      state.workspace = $('workspace').value.trim();
      if ($('email').value && $('password').value) {
        const login = await api('/v1/auth/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: $('email').value, password: $('password').value }),
        });
        state.token = login.access_token;
      } else {
        state.token = $('token').value.trim();
      }
      // Shown before the charts are drawn: a hidden element has no width to size them by.
      showSignedIn(true);
      await loadModels();
      sessionStorage.setItem('modelflare.token', state.token);
      sessionStorage.setItem('modelflare.workspace', state.workspace);
    } catch (err) {
      showSignedIn(false);
      state.token = null;
      $('signin-error').textContent = err.status === 401 ? 'That credential was not accepted.' : err.message;
    }
  }

  async function loadModels() {
    const { models } = await api('/v1/models?limit=100');
    const nav = $('models');
    nav.replaceChildren();
    if (models.length === 0) nav.append(el('div', { class: 'hint' }, 'No models in this workspace yet.'));
    for (const m of models) {
      const button = el('button', { type: 'button', 'data-model': m.name }, m.name);
      button.addEventListener('click', () => selectModel(m.name));
      nav.append(button);
    }
    if (models[0])
      await selectModel(state.model && models.some((m) => m.name === state.model) ? state.model : models[0].name);
  }

  function card(label, value) {
    return el('div', { class: 'card' }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value));
  }

  function panel(id, title) {
    const box = el(
      'div',
      { class: 'panel', id: `chart-${id}`, 'data-chart': id, 'data-points': '0' },
      el('h2', {}, title),
    );
    return box;
  }

  function empty(box, text) {
    box.append(el('div', { class: 'empty' }, text));
  }

  /** A time chart: x in milliseconds, one line per series; points without data are gaps. */
  function timeChart(box, xs, series, yLabel, yFormat, yRange) {
    const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
    box.dataset.points = String(points);
    if (points === 0) return empty(box, 'No data in this window.');
    const chart = new uPlot(
      {
        width: Math.max(320, box.clientWidth - 24),
        height: 200,
        legend: { show: true },
        scales: { x: { time: true }, y: yRange ? { auto: false, range: yRange } : {} },
        axes: [{}, { label: yLabel, size: 70, values: (u, splits) => splits.map(yFormat) }],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            spanGaps: false,
            points: { show: s.values.filter((v) => v !== null).length < 30 },
          })),
        ],
      },
      [xs.map((x) => x / 1000), ...series.map((s) => s.values)],
      box,
    );
    state.charts.push(chart);
  }

  /** Bars per feature (drift): x is the feature's index, labelled with its name. */
  function featureChart(box, names, series) {
    box.dataset.points = String(names.length);
    box.dataset.features = names.join(',');
    if (names.length === 0) return empty(box, 'No drift report yet.');
    const bars = uPlot.paths.bars({ size: [0.35, 60], align: 1 });
    const barsLeft = uPlot.paths.bars({ size: [0.35, 60], align: -1 });
    const chart = new uPlot(
      {
        width: Math.max(320, box.clientWidth - 24),
        height: 200,
        scales: {
          x: { time: false, range: [-0.5, names.length - 0.5] },
          y: { range: (u, min, max) => [0, max * 1.1 || 1] },
        },
        axes: [{ values: (u, splits) => splits.map((i) => (Number.isInteger(i) ? (names[i] ?? '') : '')) }, {}],
        series: [
          {},
          ...series.map((s, k) => ({
            label: s.label,
            fill: s.color,
            stroke: s.color,
            paths: k === 0 ? barsLeft : bars,
            points: { show: false },
          })),
        ],
      },
      [names.map((_, i) => i), ...series.map((s) => s.values)],
      box,
    );
    state.charts.push(chart);
  }

  async function selectModel(name) {
    // A later click wins: answers for a model no longer selected are dropped.
    const ticket = (state.selection = (state.selection || 0) + 1);
    state.model = name;
    for (const b of $('models').querySelectorAll('button')) b.classList.toggle('active', b.dataset.model === name);
    for (const chart of state.charts) chart.destroy();
    state.charts = [];
    const content = $('content');
    delete content.dataset.ready;
    content.replaceChildren(el('p', { class: 'muted' }, `Loading ${name}…`));
    const [stats, drift, performance] = await Promise.all([
      api(`/v1/models/${encodeURIComponent(name)}/stats?window=${state.window}`),
      api(`/v1/models/${encodeURIComponent(name)}/drift`).catch(() => null),
      api(`/v1/models/${encodeURIComponent(name)}/performance?window=${state.window === '1h' ? '24h' : state.window}`),
    ]);
    if (ticket !== state.selection) return;
    const t = stats.total;
    const driftStatus = drift?.report?.status;
    const badge = el(
      'span',
      { class: `badge ${driftStatus === 'drifted' ? 'bad' : driftStatus === 'ok' ? '' : 'none'}`, id: 'drift-status' },
      driftStatus ?? 'no baseline',
    );
    content.replaceChildren(
      el('h2', { id: 'model-title' }, name, ' ', badge),
      el(
        'div',
        { class: 'cards' },
        card('requests', fmt.int(t.requests)),
        card('rows predicted', fmt.int(t.rows)),
        card('error rate', fmt.pct(t.error_rate)),
        card('p50 latency', fmt.ms(t.latency_ms.p50)),
        card('p99 latency', fmt.ms(t.latency_ms.p99)),
        card('cache hit ratio', fmt.pct(t.cache.hit_ratio)),
        card('batch rows', fmt.int(t.batch_rows.succeeded + t.batch_rows.failed)),
      ),
    );
    const charts = el('div', { class: 'charts' });
    content.append(charts);
    const xs = stats.series.map((p) => Date.parse(p.at));
    const traffic = panel('traffic', `Traffic (requests per ${stats.window.step_minutes} min)`);
    const latency = panel('latency', 'Latency percentiles');
    const errors = panel('errors', 'Error rate');
    const cache = panel('cache', 'Cache hit ratio');
    const features = panel('drift', 'Drift per feature (PSI, KS)');
    const per = performance.step === 'hour' ? 'hour' : 'day';
    const quality = panel(
      'performance',
      performance.kind === 'regression' ? `Mean absolute error per ${per}` : `Accuracy per ${per}`,
    );
    charts.append(traffic, latency, errors, cache, features, quality);
    const nullIfQuiet = (values) => values.map((v, i) => (stats.series[i].requests === 0 ? null : v));
    timeChart(
      traffic,
      xs,
      [{ label: 'requests', values: stats.series.map((p) => p.requests), color: COLORS.requests }],
      'requests',
      fmt.int,
    );
    timeChart(
      latency,
      xs,
      [
        { label: 'p50', values: nullIfQuiet(stats.series.map((p) => p.p50)), color: COLORS.p50 },
        { label: 'p95', values: nullIfQuiet(stats.series.map((p) => p.p95)), color: COLORS.p95 },
        { label: 'p99', values: nullIfQuiet(stats.series.map((p) => p.p99)), color: COLORS.p99 },
      ],
      'ms',
      (v) => `${v}`,
    );
    timeChart(
      errors,
      xs,
      [{ label: 'error rate', values: nullIfQuiet(stats.series.map((p) => p.error_rate)), color: COLORS.error }],
      'share',
      fmt.pct,
      [0, 1],
    );
    timeChart(
      cache,
      xs,
      [{ label: 'hit ratio', values: stats.series.map((p) => p.cache_hit_ratio), color: COLORS.hit }],
      'share',
      fmt.pct,
      [0, 1],
    );
    const report = drift?.report;
    featureChart(features, report ? report.features.map((f) => f.name) : [], [
      { label: 'PSI', values: report ? report.features.map((f) => f.psi) : [], color: COLORS.psi },
      { label: 'KS', values: report ? report.features.map((f) => f.ks) : [], color: COLORS.ks },
    ]);
    timeChart(
      quality,
      performance.series.map((p) => Date.parse(p.at)),
      [
        {
          label: performance.kind === 'regression' ? 'MAE' : 'accuracy',
          values: performance.series.map((p) => p.value),
          color: COLORS.perf,
        },
      ],
      performance.kind === 'regression' ? 'MAE' : 'accuracy',
      performance.kind === 'regression' ? fmt.num : fmt.pct,
      performance.kind === 'regression' ? undefined : [0, 1],
    );
    content.dataset.ready = name;
  }

  $('signin').addEventListener('submit', signIn);
  $('signout').addEventListener('click', () => {
    sessionStorage.removeItem('modelflare.token');
    sessionStorage.removeItem('modelflare.workspace');
    location.reload();
  });
  $('window').addEventListener('change', () => {
    state.window = $('window').value;
    if (state.model) selectModel(state.model);
  });
  if (state.token) {
    showSignedIn(true);
    loadModels().catch(() => showSignedIn(false));
  }
})();
