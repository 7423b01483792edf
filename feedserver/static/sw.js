/* feedserver's service worker: shows the notifications the server pushes (Web Push) and opens the feed page
   of the item when one is clicked. It caches nothing and sees no page of any other site. */
"use strict";

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(self.registration.showNotification(data.title || "", {
    body: data.body || "",
    tag: data.tag,
    lang: data.lang,
    data: { url: data.url },
    requireInteraction: Boolean(data.crisis),
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = event.notification.data && event.notification.data.url;
  if (url && new URL(url).origin === self.location.origin) {
    event.waitUntil(self.clients.openWindow(url));
  }
});
