// A fediverse server built on Fedify (an ActivityPub implementation nobody on this project wrote), run by
// tests/test_fedify_peer.py on 127.0.0.1. Its account "tester" follows a feed actor when told to, and records
// every activity its inbox accepts. Fedify verifies each delivery's HTTP signature against the sender's key
// before a listener runs, so an activity in the record is one that verified.
//   GET  /control/follow?actor=<actor URL>   look the actor up, send a signed Follow
//   GET  /control/reply?actor=&to=&text=     send a signed Create of a Note answering the note `to`
//   GET  /control/delete?actor=&note=        send a signed Delete of one of its Notes
//   GET  /control/undo?actor=&note=          send a signed Undo of the Create of one of its Notes
//   GET  /control/events                     what the inbox accepted, as JSON
import { createServer } from "node:http";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import { Accept, Create, Delete, Endpoints, Follow, Mention, Note, Person, Tombstone, Undo, Update } from "@fedify/fedify/vocab";

const events = [];
const keys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const server = createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const federation = createFederation({ kv: new MemoryKvStore(), allowPrivateAddress: true, origin });

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== "tester") return null;
    const [pair] = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: pair.cryptographicKey,
    });
  })
  .setKeyPairsDispatcher(async (ctx, identifier) => (identifier === "tester" ? [keys] : []));

async function noted(type, activity) {
  const object = await activity.getObject();
  events.push({
    type,
    actor: activity.actorId?.href,
    object: activity.objectId?.href ?? object?.id?.href,
    content: object instanceof Note ? object.content?.toString() : null,
    inReplyTo: object instanceof Note ? object.replyTargetId?.href ?? null : null,
    updated: object instanceof Note ? object.updated?.toString() ?? null : null,
  });
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Accept, async (ctx, accept) => events.push({ type: "Accept", actor: accept.actorId?.href }))
  .on(Create, async (ctx, create) => noted("Create", create))
  .on(Update, async (ctx, update) => noted("Update", update))
  .on(Delete, async (ctx, remove) => events.push({ type: "Delete", actor: remove.actorId?.href, object: remove.objectId?.href }));

async function control(url, response) {
  const ctx = federation.createContext(new URL(origin), undefined);
  if (url.pathname === "/control/events") {
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(events));
  } else if (url.pathname === "/control/follow") {
    const actor = await ctx.lookupObject(url.searchParams.get("actor"));
    if (actor === null) return response.writeHead(404).end("actor not found");
    const follow = new Follow({
      id: new URL(`#follows/${Date.now()}`, ctx.getActorUri("tester")),
      actor: ctx.getActorUri("tester"),
      object: actor.id,
    });
    await ctx.sendActivity({ identifier: "tester" }, actor, follow, { immediate: true });
    response.writeHead(202).end("following");
  } else if (url.pathname === "/control/reply") {
    const actor = await ctx.lookupObject(url.searchParams.get("actor"));
    const id = new URL(`/notes/${Date.now()}`, origin);
    const note = new Note({
      id,
      attribution: ctx.getActorUri("tester"),
      replyTarget: new URL(url.searchParams.get("to")),
      content: `<p><span class="h-card"><a href="${actor.id.href}">@feed</a></span> ${url.searchParams.get("text")}</p>`,
      to: actor.id,
      tags: [new Mention({ href: actor.id, name: "@feed" })],
    });
    const create = new Create({ id: new URL(`${id.href}/activity`), actor: ctx.getActorUri("tester"), object: note, to: actor.id });
    await ctx.sendActivity({ identifier: "tester" }, actor, create, { immediate: true });
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ note: id.href }));
  } else if (url.pathname === "/control/delete") {
    const actor = await ctx.lookupObject(url.searchParams.get("actor"));
    const note = new URL(url.searchParams.get("note"));
    const remove = new Delete({
      id: new URL(`${note.href}#delete`),
      actor: ctx.getActorUri("tester"),
      object: new Tombstone({ id: note }),
      to: actor.id,
    });
    await ctx.sendActivity({ identifier: "tester" }, actor, remove, { immediate: true });
    response.writeHead(202).end("deleted");
  } else if (url.pathname === "/control/undo") {
    const actor = await ctx.lookupObject(url.searchParams.get("actor"));
    const note = new URL(url.searchParams.get("note"));
    const create = new Create({ id: new URL(`${note.href}/activity`), actor: ctx.getActorUri("tester"), object: note });
    const undo = new Undo({
      id: new URL(`${note.href}#undo`),
      actor: ctx.getActorUri("tester"),
      object: create,
      to: actor.id,
    });
    await ctx.sendActivity({ identifier: "tester" }, actor, undo, { immediate: true });
    response.writeHead(202).end("undone");
  } else {
    response.writeHead(404).end();
  }
}

server.on("request", async (incoming, response) => {
  const url = new URL(incoming.url, origin);
  try {
    if (url.pathname.startsWith("/control/")) return await control(url, response);
    const chunks = [];
    for await (const chunk of incoming) chunks.push(chunk);
    const body = ["GET", "HEAD"].includes(incoming.method) ? undefined : Buffer.concat(chunks);
    const request = new Request(url, { method: incoming.method, headers: incoming.headers, body });
    const answer = await federation.fetch(request, { contextData: undefined });
    response.writeHead(answer.status, Object.fromEntries(answer.headers));
    response.end(Buffer.from(await answer.arrayBuffer()));
  } catch (error) {
    response.writeHead(500).end(String(error?.stack ?? error));
  }
});

console.log(`listening ${origin}`);
