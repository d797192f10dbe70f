// Offline once loaded: the page's files are kept on install, examples as they are opened. The cache
// is named after the build (`make playground` writes its digest here), so a new build replaces it.
const CACHE = 'playground-@BUILD@';
const SHELL = [
  './',
  'index.html',
  'playground.css',
  'playground.js',
  'pkg/pod_security_playground.js',
  'pkg/pod_security_playground_bg.wasm',
  'examples/index.json',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  if (event.request.method !== 'GET') return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const cached = await cache.match(event.request, { ignoreSearch: true });
      if (cached) return cached;
      const response = await fetch(event.request);
      if (response.ok && new URL(event.request.url).origin === location.origin) {
        cache.put(event.request, response.clone());
      }
      return response;
    }),
  );
});
