// The preferences page's «Уведомления в браузере»: subscribe this browser at its push
// service and hand the subscription to the gateway, or take it back. The texts come from
// the page (data-*), in the reader's language.
"use strict";
(function () {
  var box = document.getElementById("push");
  if (!box) {
    return;
  }
  var status = box.querySelector("[data-push-status]");
  var turnOn = box.querySelector("[data-push-on]");
  var turnOff = box.querySelector("[data-push-off]");

  function say(key) {
    status.textContent = box.dataset[key];
  }

  function show(subscribed) {
    turnOn.hidden = subscribed;
    turnOff.hidden = !subscribed;
    say(subscribed ? "on" : "off");
  }

  function keyBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
      body: JSON.stringify(body),
    }).then(function (answer) {
      if (!answer.ok) {
        throw new Error("the gateway answered " + answer.status);
      }
      return answer;
    });
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("unsupported");
    return;
  }

  navigator.serviceWorker.ready
    .then(function (registration) {
      return registration.pushManager.getSubscription();
    })
    .then(function (subscription) {
      show(Boolean(subscription));
      if (subscription) {
        // Tell the gateway again: the push service may have renewed it since.
        return post(box.dataset.subscribe, subscription.toJSON());
      }
    })
    .catch(function () {
      show(false);
    });

  turnOn.addEventListener("click", function () {
    turnOn.disabled = true;
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") {
          say("denied");
          return null;
        }
        return navigator.serviceWorker.ready.then(function (registration) {
          return registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: keyBytes(box.dataset.key),
          });
        });
      })
      .then(function (subscription) {
        if (subscription) {
          return post(box.dataset.subscribe, subscription.toJSON()).then(function () {
            window.location.reload(); // the list of devices now has this one
          });
        }
      })
      .catch(function () {
        say("failed");
      })
      .then(function () {
        turnOn.disabled = false;
      });
  });

  turnOff.addEventListener("click", function () {
    turnOff.disabled = true;
    navigator.serviceWorker.ready
      .then(function (registration) {
        return registration.pushManager.getSubscription();
      })
      .then(function (subscription) {
        if (!subscription) {
          return null;
        }
        var endpoint = subscription.endpoint;
        return subscription.unsubscribe().then(function () {
          return post(box.dataset.forget, { endpoint: endpoint });
        });
      })
      .then(function () {
        window.location.reload();
      })
      .catch(function () {
        say("failed");
        turnOff.disabled = false;
      });
  });
})();
