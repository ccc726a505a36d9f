// Every page registers the service worker: it makes the site installable and shows the
// push notifications (static/sw.js, served from the root so that it controls every page).
"use strict";
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
    // Without a worker the site still works; only push and installing are unavailable.
  });
}
