/*
 * The monitoring dashboard's page. Scripts come from the worker itself (uPlot bundled, no
 * CDN) so it works offline and under the same-origin Content-Security-Policy.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>modelflare · dashboard</title>
  <link rel="stylesheet" href="/dashboard/uplot.css">
  <style>
    :root { --ink: #1d2433; --muted: #667085; --line: #e4e7ec; --accent: #f38020; --bg: #f7f8fa; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; color: var(--ink); background: var(--bg); }
    header { display: flex; align-items: center; gap: 16px; padding: 12px 20px; background: #fff; border-bottom: 1px solid var(--line); }
    header h1 { font-size: 17px; margin: 0; } header h1 span { color: var(--accent); }
    header .grow { flex: 1; }
    main { display: grid; grid-template-columns: 240px 1fr; min-height: calc(100vh - 54px); }
    nav { background: #fff; border-right: 1px solid var(--line); padding: 12px; overflow: auto; }
    nav button { display: block; width: 100%; text-align: left; border: 0; background: none; padding: 8px 10px; border-radius: 6px; cursor: pointer; font: inherit; color: inherit; }
    nav button.active, nav button:hover { background: #fff4ea; color: #b45309; }
    nav .hint { color: var(--muted); font-size: 12px; padding: 8px 10px; }
    section#content { padding: 20px; overflow: auto; }
    .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; margin-bottom: 16px; }
    .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
    .card .label { color: var(--muted); font-size: 12px; } .card .value { font-size: 22px; font-weight: 600; }
    .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 16px; }
    .panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; min-height: 260px; }
    .panel h2 { font-size: 14px; margin: 0 0 8px; } .panel .empty { color: var(--muted); padding: 40px 0; text-align: center; }
    form#signin { max-width: 420px; margin: 80px auto; background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 24px; }
    form#signin h2 { margin-top: 0; } label { display: block; margin: 12px 0 4px; font-weight: 500; }
    input, select { width: 100%; padding: 8px 10px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
    button.primary { margin-top: 16px; background: var(--accent); color: #fff; border: 0; padding: 9px 16px; border-radius: 6px; font: inherit; cursor: pointer; }
    .error { color: #b42318; margin-top: 8px; min-height: 1.2em; } .muted { color: var(--muted); }
    .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #ecfdf3; color: #027a48; }
    .badge.bad { background: #fef3f2; color: #b42318; } .badge.none { background: #f2f4f7; color: var(--muted); }
    [hidden] { display: none !important; }
  </style>
</head>
<body>
  <header>
    <h1>model<span>flare</span> · monitoring</h1>
    <div class="grow"></div>
    <label class="muted" for="window" hidden>window</label>
    <select id="window" aria-label="window" style="width:auto" hidden>
      <option value="1h">last hour</option><option value="24h" selected>last 24 hours</option><option value="7d">last 7 days</option>
    </select>
    <button id="signout" class="primary" style="margin:0" hidden>Sign out</button>
  </header>
  <form id="signin">
    <h2>Sign in</h2>
    <p class="muted">Paste an API key, an access token or the admin key — or sign in with your account. The token stays in this tab only.</p>
    <label for="token">Token</label>
    <input id="token" type="password" autocomplete="off" placeholder="mfk_… / eyJ… / admin key">
    <label for="email">or e-mail and password</label>
    <input id="email" type="email" autocomplete="username" placeholder="ada@example.com">
    <input id="password" type="password" autocomplete="current-password" placeholder="password" style="margin-top:6px">
    <label for="workspace">Workspace (optional)</label>
    <input id="workspace" placeholder="ws_…">
    <button class="primary" type="submit">Open dashboard</button>
    <div class="error" id="signin-error" role="alert"></div>
  </form>
  <main id="app" hidden>
    <nav id="models" aria-label="models"></nav>
    <section id="content"><p class="muted">Choose a model.</p></section>
  </main>
  <script src="/dashboard/uplot.js"></script>
  <script src="/dashboard/app.js"></script>
</body>
</html>`;
