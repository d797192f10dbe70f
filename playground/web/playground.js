// The playground page: two editors, the level and version pickers, and the verdicts, evaluated by
// the policy's rules (pod-security-playground, built with wasm-bindgen) on every edit. The whole
// state travels in the URL fragment, deflated: nothing is ever sent anywhere.

import init, { evaluate, fix, versions } from './pkg/pod_security_playground.js';

// The webhook name Kubewarden gives a ClusterAdmissionPolicy named restricted-pod-policy, as kubectl
// prints it.
const WEBHOOK = 'clusterwide-restricted-pod-policy.kubewarden.admission';
const STATE_PREFIX = '#state=';

const DEFAULT_MANIFEST = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx:1.27
    securityContext:
      privileged: true
    volumeMounts:
    - name: runtime
      mountPath: /run/containerd
  volumes:
  - name: runtime
    hostPath:
      path: /run/containerd
`;

const DEFAULT_SETTINGS = `# PSA's PodSecurityConfiguration; the policy's own keys beside it.
defaults:
  enforce: restricted
  enforce-version: latest
`;

const $ = (id) => document.getElementById(id);

/// A textarea with a line-number gutter and a backdrop that marks lines.
class Editor {
  constructor(root) {
    this.textarea = root.querySelector('textarea');
    this.gutter = root.querySelector('.gutter');
    this.backdrop = root.querySelector('.backdrop');
    this.marks = new Map();
    this.textarea.addEventListener('scroll', () => this.syncScroll());
  }

  get value() { return this.textarea.value; }

  set value(text) {
    this.textarea.value = text;
    this.render();
  }

  /// `marks`: line → {severity, notes}.
  setMarks(marks) {
    this.marks = marks;
    this.render();
  }

  render() {
    const lines = this.textarea.value.split('\n');
    const numbers = [];
    const backdrop = document.createDocumentFragment();
    lines.forEach((text, index) => {
      const line = index + 1;
      const mark = this.marks.get(line);
      numbers.push(mark ? `${line} ●` : `${line}  `);
      // One block per line, never empty, so each is exactly one line high, as in the textarea.
      const row = document.createElement('div');
      row.textContent = text || ' ';
      if (mark) {
        row.className = `mark ${mark.severity}`;
      }
      backdrop.appendChild(row);
    });
    this.gutter.textContent = numbers.join('\n') + '\n';
    const titled = [...this.marks.entries()].map(([line, mark]) => `line ${line}: ${mark.notes.join('; ')}`);
    this.gutter.title = titled.join('\n');
    this.backdrop.replaceChildren(backdrop);
    this.syncScroll();
  }

  syncScroll() {
    this.gutter.scrollTop = this.textarea.scrollTop;
    this.backdrop.scrollTop = this.textarea.scrollTop;
    this.backdrop.scrollLeft = this.textarea.scrollLeft;
  }

  /// Selects `line` and scrolls it into view.
  goTo(line) {
    const lines = this.textarea.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
    const end = start + (lines[line - 1] ?? '').length;
    this.textarea.focus();
    this.textarea.setSelectionRange(start, end);
    const lineHeight = parseFloat(getComputedStyle(this.textarea).lineHeight) || 18;
    this.textarea.scrollTop = Math.max(0, (line - 3) * lineHeight);
    this.syncScroll();
  }
}

const manifest = new Editor($('manifest-editor'));
const settings = new Editor($('settings-editor'));

function options() {
  const chosen = {};
  if ($('level').value) chosen.level = $('level').value;
  if ($('version').value) chosen.version = $('version').value;
  return JSON.stringify(chosen);
}

const SEVERITY_ORDER = { deny: 3, warn: 2, audit: 1 };

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function lineButton(line, editor = manifest) {
  const button = el('button', { type: 'button', class: 'line-link', 'data-line': String(line) }, `line ${line}`);
  button.addEventListener('click', () => editor.goTo(line));
  return button;
}

/// What kubectl would print for the object.
function kubectlOutput(object) {
  const output = el('pre', { class: 'kubectl' });
  for (const warning of object.warnings) {
    output.append(el('span', { class: 'warning-line' }, `Warning: ${warning}`), '\n');
  }
  if (object.allowed) {
    const [kind, name] = object.object.split(' ');
    const shortName = name.split('/').pop();
    output.append(`${kind.toLowerCase()}/${shortName} created`);
  } else {
    output.append(`Error from server: admission webhook "${WEBHOOK}" denied the request: `,
      el('span', { class: 'message' }, object.message ?? ''));
  }
  return output;
}

function renderObject(object) {
  const state = !object.evaluated ? 'skipped' : object.allowed ? (object.warnings.length ? 'warned' : 'allowed') : 'denied';
  const badge = { skipped: 'Not evaluated', warned: 'Allowed, with warnings', allowed: 'Allowed', denied: 'Denied' }[state];
  const article = el('article', { class: `object ${state}`, 'data-object': object.object },
    el('h3', {}, el('span', { class: 'badge' }, badge), ' ', object.object, ' ', lineButton(object.line)));
  if (!object.evaluated) {
    article.append(el('p', {}, object.message));
    return article;
  }
  article.append(kubectlOutput(object));
  if (object.findings.length) {
    const list = el('ul', { class: 'findings', 'aria-label': `Findings for ${object.object}` });
    for (const finding of object.findings) {
      list.append(el('li', { class: finding.severity },
        el('span', { class: 'severity' }, finding.severity),
        ' ', el('code', { class: 'rule' }, finding.rule),
        finding.level ? ` at ${finding.level}` : '',
        ': ', el('span', { class: 'finding-message' }, finding.message), ' ',
        finding.lines.map((line) => lineButton(line))));
    }
    article.append(list);
  }
  if (object.levels) {
    const levels = Object.entries(object.levels).map(([mode, level]) => `${mode} ${level}`).join(', ');
    article.append(el('p', { class: 'levels' }, `Levels its labels set: ${levels}`));
  }
  if (object.defaulted?.length) {
    const list = el('ul', { class: 'defaulted' });
    for (const field of object.defaulted) {
      list.append(el('li', {}, el('code', {}, `${field.pointer}: ${JSON.stringify(field.value)}`), ' ', lineButton(field.line)));
    }
    const title = object.defaultedBy === 'policy'
      ? 'The policy fills in, on admission (secureDefaults)'
      : 'Fix: what secureDefaults would add (write it with "Write the fixes into the manifest")';
    article.append(el('details', { open: '', class: 'defaulted-by' }, el('summary', {}, title), list));
  }
  const annotations = Object.entries(object.auditAnnotations);
  if (annotations.length) {
    const list = el('dl', { class: 'annotations' });
    for (const [key, value] of annotations) list.append(el('dt', {}, key), el('dd', {}, value));
    article.append(el('details', {}, el('summary', {}, `Audit annotations (${annotations.length})`), list));
  }
  const review = JSON.stringify(object.request, null, 2);
  const copy = el('button', { type: 'button', class: 'copy-request' }, 'Copy');
  copy.addEventListener('click', async () => {
    await copyText(review);
    copy.textContent = 'Copied';
  });
  article.append(el('details', { class: 'request' },
    el('summary', {}, 'The AdmissionReview the API server would send (for kwctl run -r or host-test run)'),
    copy, el('pre', { class: 'admission-review' }, review)));
  return article;
}

function render(result, elapsed) {
  const results = $('results');
  $('timing').textContent = `evaluated in ${elapsed.toFixed(1)} ms`;
  const marks = new Map();
  const mark = (line, severity, note) => {
    const current = marks.get(line);
    if (!current) {
      marks.set(line, { severity, notes: [note] });
    } else {
      current.notes.push(note);
      if (SEVERITY_ORDER[severity] > SEVERITY_ORDER[current.severity]) current.severity = severity;
    }
  };
  const settingsMarks = new Map();
  const nodes = [];
  if (result.settingsError) {
    const error = result.settingsError;
    nodes.push(el('div', { class: 'error settings-error', role: 'alert' },
      el('strong', {}, 'Settings: '), error.message, error.line ? [' ', lineButton(error.line, settings)] : null));
    if (error.line) settingsMarks.set(error.line, { severity: 'deny', notes: [error.message] });
  } else {
    nodes.push(el('p', { class: 'summary' }, summary(result)));
    if (result.objects.some((object) => object.defaulted?.length)) {
      const write = el('button', { type: 'button', id: 'write-fixes' }, 'Write the fixes into the manifest');
      write.addEventListener('click', writeFixes);
      nodes.push(write);
    }
  }
  for (const problem of result.problems ?? []) {
    nodes.push(el('div', { class: 'error problem', role: 'alert' },
      el('strong', {}, `Line ${problem.line}: `), problem.message, ' ', lineButton(problem.line)));
    mark(problem.line, 'deny', problem.message);
  }
  for (const object of result.objects ?? []) {
    nodes.push(renderObject(object));
    for (const finding of object.findings) {
      for (const line of finding.lines) mark(line, finding.severity, `${finding.rule}: ${finding.message}`);
    }
  }
  results.replaceChildren(...nodes);
  // Screen readers hear the summary when it changes, not every re-rendered verdict.
  const announcement = result.settingsError ? `Settings: ${result.settingsError.message}` : summary(result);
  if ($('announce').textContent !== announcement) $('announce').textContent = announcement;
  manifest.setMarks(marks);
  settings.setMarks(settingsMarks);
}

/// Writes what the secure defaults add into the manifest's YAML, as `host-test check --fix` does.
function writeFixes() {
  const fixed = JSON.parse(fix(manifest.value, settings.value, options()));
  if (fixed.settingsError) return;
  manifest.value = fixed.manifest;
  const unplaced = fixed.notPlaced.length
    ? `; not written (JSON, flow style or an AdmissionReview): the objects at line ${fixed.notPlaced.join(', ')}`
    : '';
  $('share-status').textContent = `Fixes written for the objects at line ${fixed.fixed.join(', ') || '(none)'}${unplaced}.`;
  run();
}

function summary(result) {
  const evaluated = result.objects.filter((object) => object.evaluated);
  const denied = evaluated.filter((object) => !object.allowed).length;
  const warned = evaluated.filter((object) => object.allowed && object.warnings.length).length;
  return `${evaluated.length} object(s) evaluated at enforce ${result.enforce}: ${denied} denied, ${warned} allowed with warnings.`;
}

let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    run();
  });
}

function run() {
  const started = performance.now();
  let answer;
  try {
    answer = JSON.parse(evaluate(manifest.value, settings.value, options()));
  } catch (error) {
    // The rules never panic on input; if they did, say so rather than show stale verdicts.
    answer = { settingsError: { line: 0, message: `the evaluation failed: ${error.message}` }, objects: [], problems: [] };
  }
  render(answer, performance.now() - started);
}

// Share links: the state as JSON, deflated, in base64url, after `#state=`.
async function encodeState() {
  const state = { manifest: manifest.value, settings: settings.value, level: $('level').value, version: $('version').value };
  const stream = new Blob([JSON.stringify(state)]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

async function decodeState(encoded) {
  const binary = atob(encoded.replaceAll('-', '+').replaceAll('_', '/'));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return JSON.parse(await new Response(stream).text());
}

async function restoreFromFragment() {
  if (!location.hash.startsWith(STATE_PREFIX)) return false;
  try {
    const state = await decodeState(location.hash.slice(STATE_PREFIX.length));
    manifest.value = String(state.manifest ?? '');
    settings.value = String(state.settings ?? '');
    $('level').value = state.level ?? '';
    $('version').value = state.version ?? '';
    return true;
  } catch (error) {
    $('share-status').textContent = `This link's state cannot be read (${error.message}); the page starts empty-handed.`;
    return false;
  }
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard (not a secure context, or denied): leave the text selected for Ctrl+C.
    const area = el('textarea', { class: 'offscreen', 'aria-hidden': 'true' });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

async function share() {
  const link = `${location.origin}${location.pathname}${STATE_PREFIX}${await encodeState()}`;
  history.replaceState(null, '', link);
  await copyText(link);
  $('share-status').textContent = `Link copied (${link.length} characters); it holds everything, and nothing was uploaded.`;
}

async function loadExamples() {
  const response = await fetch('examples/index.json');
  if (!response.ok) return;
  const index = await response.json();
  const fill = (select, entries) => {
    const groups = new Map();
    for (const entry of entries) {
      if (!groups.has(entry.group)) groups.set(entry.group, el('optgroup', { label: entry.group }));
      groups.get(entry.group).append(el('option', { value: entry.file }, entry.name));
    }
    select.append(...groups.values());
  };
  fill($('example'), index.manifests);
  fill($('settings-example'), index.settings);
}

async function pickExample(select, editor) {
  if (!select.value) return;
  const response = await fetch(`examples/${select.value}`);
  editor.value = response.ok ? await response.text() : `# cannot load ${select.value}: ${response.status}`;
  select.value = '';
  schedule();
}

async function main() {
  await init();
  for (const version of JSON.parse(versions())) {
    $('version').append(el('option', { value: version }, version));
  }
  $('version').value = 'latest';
  if (!(await restoreFromFragment())) {
    manifest.value = DEFAULT_MANIFEST;
    settings.value = DEFAULT_SETTINGS;
  }
  for (const input of [manifest.textarea, settings.textarea]) input.addEventListener('input', schedule);
  for (const select of [$('level'), $('version')]) select.addEventListener('change', schedule);
  $('example').addEventListener('change', () => pickExample($('example'), manifest));
  $('settings-example').addEventListener('change', () => pickExample($('settings-example'), settings));
  $('share').addEventListener('click', share);
  window.addEventListener('hashchange', async () => {
    if (await restoreFromFragment()) run();
  });
  run();
  document.body.dataset.ready = 'true';
  loadExamples().catch(() => {});
  if ('serviceWorker' in navigator && location.protocol !== 'file:') {
    navigator.serviceWorker.register('sw.js').catch(() => {});
  }
}

main().catch((error) => {
  $('results').replaceChildren(el('div', { class: 'error', role: 'alert' }, `The rules could not be loaded: ${error.message}`));
});
