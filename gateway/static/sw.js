// The service worker: shows the gateway's push messages and opens the page a tap asks for.
// A message is JSON {title, body, url, tag} (gateway/services/push.py); the same tag
// replaces a shown notification about the same record instead of stacking another.
"use strict";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data ? event.data.text() : "" };
  }
  var options = {
    body: data.body || "",
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/icon-192.png",
    lang: "ru",
    data: { url: data.url || "/" },
  };
  if (data.tag) {
    options.tag = data.tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(data.title || "Дневник", options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL(event.notification.data.url || "/", self.location.origin);
  if (target.origin !== self.location.origin) {
    target = new URL("/", self.location.origin); // only ever open our own pages
  }
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (open) {
      for (var i = 0; i < open.length; i++) {
        if (open[i].url === target.href && "focus" in open[i]) {
          return open[i].focus();
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});
