/* "Notify me" on a feed page: subscribes this browser to the feed's Web Push notifications through
   /api/v1/feeds/<id>/webpush (with the page's filters), and unsubscribes it again. No cookie: whether this
   browser subscribed to this feed is remembered in localStorage, which the feature needs and nothing else. */
"use strict";

(function () {
  const box = document.querySelector(".notify[data-webpush-key]");
  if (!box) return;
  const button = box.querySelector(".notify-toggle");
  const status = box.querySelector(".notify-status");
  const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!supported) return;
  box.querySelector(".notify-needs-js").hidden = true;
  button.hidden = false;
  const remembered = "feedserver-webpush:" + box.dataset.webpushApi;
  const filters = Object.fromEntries(new URLSearchParams(window.location.search));
  delete filters.lang;

  function show(on, text) {
    button.textContent = on ? box.dataset.stop : box.dataset.start;
    button.setAttribute("aria-pressed", on ? "true" : "false");
    status.textContent = text;
  }

  function key() {
    const padded = box.dataset.webpushKey.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(padded + "=".repeat((4 - (padded.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  async function subscription() {
    const registration = await navigator.serviceWorker.register(box.dataset.webpushWorker);
    const existing = await registration.pushManager.getSubscription();
    return existing || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key() });
  }

  async function turnOn() {
    if ((await Notification.requestPermission()) !== "granted") throw new Error("not allowed");
    const body = { subscription: (await subscription()).toJSON(), filters, language: document.documentElement.lang };
    const answer = await fetch(box.dataset.webpushApi, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if (!answer.ok) throw new Error("refused");
    localStorage.setItem(remembered, "1");
    show(true, box.dataset.on);
  }

  async function turnOff() {
    const registration = await navigator.serviceWorker.getRegistration(box.dataset.webpushWorker);
    const current = registration && (await registration.pushManager.getSubscription());
    if (current) {
      const { endpoint, keys } = current.toJSON();
      await fetch(box.dataset.webpushApi, {
        method: "DELETE", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ endpoint, auth: keys.auth }),
      });
    }
    localStorage.removeItem(remembered);
    show(false, box.dataset.off);
  }

  show(localStorage.getItem(remembered) === "1", "");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      if (button.getAttribute("aria-pressed") === "true") await turnOff();
      else await turnOn();
    } catch (error) {
      show(false, box.dataset.failed);
    } finally {
      button.disabled = false;
    }
  });
})();
