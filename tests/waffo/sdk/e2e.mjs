// Drives the official @waffo/pancake-ts SDK against paymock, pointed at it by baseUrl only.
// Usage: node e2e.mjs checkout | node e2e.mjs cancel <token> <orderId> | node e2e.mjs catalog
// Config comes from PAYMOCK_WAFFO (JSON: baseUrl, merchantId, privateKey, productId, storeId;
// for catalog also controlUrl, the mock's root, and webhookPublicKey, the key it signs with).
// Prints one JSON document; pytest compares it with the server's state.
import { createServer } from "node:http";
import { WaffoPancake, WaffoPancakeError } from "@waffo/pancake-ts";

const config = JSON.parse(process.env.PAYMOCK_WAFFO);
const client = new WaffoPancake({
  merchantId: config.merchantId,
  privateKey: config.privateKey,
  baseUrl: config.baseUrl,
  webhookPublicKey: config.webhookPublicKey,
});

async function attempt(fn) {
  try {
    return { ok: true, result: await fn() };
  } catch (err) {
    if (err instanceof WaffoPancakeError) return { ok: false, status: err.status, errors: err.errors };
    throw err;
  }
}

async function checkout() {
  const low = await client.checkout.createSession({
    productId: config.productId,
    currency: "USD",
    buyerEmail: "  Low.Level@Example.COM ",
    metadata: { source: "sdk-e2e" },
  });
  const anonymous = await client.checkout.anonymous.create({
    productId: config.productId,
    currency: "EUR",
    language: "pt-BR",
    includePaymentMethods: ["card", "applepay"],
  });
  const authenticated = await client.checkout.authenticated.create(
    {
      productId: config.productId,
      currency: "USD",
      buyerIdentity: "user-42",
      buyerEmail: "Buyer@Example.COM",
      billingDetail: { country: "US", isBusiness: false, state: "CA" },
      orderMerchantExternalId: "ORDER-2026-00891",
    },
    { idempotencyKey: "sdk-e2e-authenticated" },
  );
  const issued = await client.auth.issueSessionToken({ storeId: config.storeId, buyerIdentity: "user-42" });
  // SDK 0.25 has no order-creation method: the hosted checkout page places the order with the
  // customer's token, so this is the request that page sends.
  const response = await fetch(`${config.baseUrl}/v1/actions/onetime-order/create-order`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${authenticated.token}`,
      "X-Environment": "test",
    },
    body: JSON.stringify({ checkoutSessionId: authenticated.sessionId }),
  });
  const order = { status: response.status, body: await response.json() };
  const badProduct = await attempt(() =>
    client.checkout.createSession({ productId: "PROD_0000000000000000000000", currency: "USD" }),
  );
  return { low, anonymous, authenticated, issued, order, badProduct };
}

async function cancel(token, orderId) {
  const customer = client.customer(token, { environment: "test" });
  const first = await attempt(() => customer.cancelOnetimeOrder({ orderId }));
  const second = await attempt(() => customer.cancelOnetimeOrder({ orderId }));
  return { first, second };
}

// A store, its products, a group and a webhook made through the SDK; then a purchase of the new
// product (the page's create-order request, the PSP's "paid" through the control API) whose
// order.completed reaches the store's webhook, verified by the SDK's own verify().
async function catalog() {
  const received = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ body, signature: req.headers["x-waffo-signature"] });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/waffo`;

  const { store } = await client.stores.create({ name: "SDK Catalog Shop" });
  const updated = await client.stores.update({ id: store.id, notificationSettings: { notifyNewOrders: false } });
  const { product } = await client.onetimeProducts.create({
    storeId: store.id,
    name: "SDK Handbook",
    prices: { USD: { amount: "19.00", taxCategory: "ebook" } },
    metadata: { sku: "sdk-1" },
  });
  const v2 = await client.onetimeProducts.update({ id: product.id, description: "Second edition" });
  const published = await client.onetimeProducts.publish({ id: product.id });
  const inactive = await client.onetimeProducts.updateStatus({ id: product.id, status: "inactive" });
  const active = await client.onetimeProducts.updateStatus({ id: product.id, status: "active" });
  const { product: plan } = await client.subscriptionProducts.create({
    storeId: store.id,
    name: "SDK Pro",
    billingPeriod: "monthly",
    prices: { USD: { amount: "9.99", taxCategory: "saas" } },
  });
  const planV2 = await client.subscriptionProducts.update({ id: plan.id, billingPeriod: "yearly" });
  const planPublished = await client.subscriptionProducts.publish({ id: plan.id });
  const planInactive = await client.subscriptionProducts.updateStatus({ id: plan.id, status: "inactive" });
  const { group } = await client.subscriptionProductGroups.create({
    storeId: store.id,
    name: "SDK Plans",
    rules: { selfServicePlanChange: true },
    productIds: [plan.id],
  });
  const groupUpdated = await client.subscriptionProductGroups.update({ id: group.id, rules: { sharedTrial: true } });
  const groupPublished = await client.subscriptionProductGroups.publish({ id: group.id });
  const groupDeleted = await client.subscriptionProductGroups.delete({ id: group.id });
  const member = await attempt(() =>
    client.storeMerchants.add({ storeId: store.id, email: "member@example.com", role: "admin" }),
  );
  const { webhook } = await client.webhooks.add({
    storeId: store.id,
    channel: "http",
    url: hookUrl,
    events: ["subscription.activated"],
    testMode: true,
  });
  const hookUpdated = await client.webhooks.update({ id: webhook.id, events: ["order.completed", "refund.succeeded"] });
  const spare = await client.webhooks.add({
    storeId: store.id, channel: "slack", url: "https://hooks.slack.example/x", events: [], testMode: true,
  });
  const spareRemoved = await client.webhooks.remove({ id: spare.webhook.id });

  // The purchase: a session for the new product, the hosted page's order, the PSP's "paid".
  const session = await client.checkout.authenticated.create({
    productId: product.id, currency: "USD", buyerIdentity: "sdk-catalog@example.com",
  });
  const placed = await fetch(`${config.baseUrl}/v1/actions/onetime-order/create-order`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${session.token}`, "X-Environment": "test" },
    body: JSON.stringify({
      checkoutSessionId: session.sessionId,
      buyerEmail: "sdk-catalog@example.com",
      billingDetail: { country: "DE", isBusiness: false },
    }),
  });
  const order = await placed.json();
  const orderId = new URL(order.data.checkoutUrl).pathname.split("/").pop();
  const paid = await fetch(`${config.controlUrl}/_mock/payments/${orderId}/outcome`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ outcome: "paid" }),
  });
  for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));

  // The buyer asks for part of it back; Waffo's review (the control API) approves.
  const buyer = client.customer(session.token, { environment: "test" });
  const payment = await (await fetch(`${config.controlUrl}/_mock/payments/${orderId}`)).json();
  const { ticket } = await buyer.createRefundTicket({
    paymentId: payment.payment.id, reason: "Chapter missing",
    requestedAmount: { amount: "5.00", currency: "USD" }, refundTicketMerchantExternalId: "RT-SDK-1",
  });
  const approved = await (await fetch(`${config.controlUrl}/_mock/waffo/refund-tickets/${ticket.id}/approve`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
  })).json();
  for (let i = 0; i < 100 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  receiver.close();

  // Read back through GraphQL, as the merchant and as the buyer.
  const merchantView = await client.graphql.query({
    query: `query ($id: ID!, $storeId: String!) {
      onetimeOrder(id: $id) { id status payments { id refundStatus refunds { status } } }
      onetimeProducts(storeId: $storeId) { id name hasProdVersion }
      refundTicketsCount(filter: { status: { eq: "succeeded" } })
    }`,
    variables: { id: payment.payment.ref.id, storeId: store.id },
  });
  const buyerView = await buyer.graphql.query({ query: "query { onetimeOrders { id status } }" });
  const refused = await attempt(() => client.graphql.query({ query: "mutation { stores { id } }" }));

  // Content safety, and a customer who cancels a subscription and takes it back.
  const allowed = await client.contentSafety.scanPrompt({ prompt: "a cat riding a bike" });
  const blocked = await client.contentSafety.scanPrompt({ prompt: "a deepfake of my neighbour", semantic: "enforce" });
  const subscription = await client.checkout.authenticated.create({
    productId: config.subscriptionProductId, currency: "USD", buyerIdentity: "sdk-sub@example.com",
  });
  const subOrder = await (await fetch(`${config.baseUrl}/v1/actions/subscription-order/create-order`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${subscription.token}`, "X-Environment": "test" },
    body: JSON.stringify({
      checkoutSessionId: subscription.sessionId, buyerEmail: "sdk-sub@example.com",
      billingDetail: { country: "DE", isBusiness: false },
    }),
  })).json();
  const subPayment = new URL(subOrder.data.checkoutUrl).pathname.split("/").pop();
  await fetch(`${config.controlUrl}/_mock/payments/${subPayment}/outcome`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ outcome: "paid" }),
  });
  const subscriber = client.customer(subscription.token, { environment: "test" });
  const ordersNow = await (await fetch(`${config.controlUrl}/_mock/payments/${subPayment}`)).json();
  const subscriptionOrderId = ordersNow.payment.ref.id;
  const canceling = await subscriber.cancelSubscription({ orderId: subscriptionOrderId });
  const reactivated = await subscriber.reactivateSubscription({ orderId: subscriptionOrderId });
  const again = await attempt(() => subscriber.reactivateSubscription({ orderId: subscriptionOrderId }));
  const events = received.map(({ body, signature }) => client.webhooks.verify(body, signature));
  return {
    store, updated, product, v2, published, inactive, active, plan, planV2, planPublished, planInactive,
    group, groupUpdated, groupPublished, groupDeleted, member, webhook, hookUpdated, spareRemoved,
    paid: paid.status, events, allowed, blocked, canceling, reactivated, again, ticket, approved,
    merchantView, buyerView, refused,
  };
}

// A subscription's life, in steps the Python test runs between the browser's and the clock's:
// setup (a store, two plans in a self-service group, a webhook for every event, the buyer's
// authenticated checkout link), customer (cancel, reactivate, a plan-change link), refund (a
// ticket for the renewal, approved by Waffo's review) and readback (GraphQL as the merchant and
// as the buyer; every webhook the store received verified by the SDK).
async function lifecycleSetup() {
  const { store } = await client.stores.create({ name: "SDK Lifecycle Shop" });
  const plan = async (name, amount) => (await client.subscriptionProducts.create({
    storeId: store.id, name, billingPeriod: "monthly",
    prices: { USD: { amount, taxCategory: "saas" } },
  })).product;
  const basic = await plan("Basic", "9.00");
  const plus = await plan("Plus", "19.00");
  const { group } = await client.subscriptionProductGroups.create({
    storeId: store.id, name: "Plans", rules: { selfServicePlanChange: true },
    productIds: [basic.id, plus.id],
  });
  const { webhook } = await client.webhooks.add({
    storeId: store.id, channel: "http", url: config.hookUrl, testMode: true,
    events: [
      "order.completed", "subscription.activated", "subscription.payment_succeeded",
      "subscription.renewed", "subscription.recovered", "subscription.plan_changed",
      "subscription.plan_change_scheduled", "subscription.plan_change_failed",
      "subscription.canceling", "subscription.uncanceled", "subscription.canceled",
      "subscription.past_due", "refund.succeeded", "refund.failed",
    ],
  });
  const link = await client.checkout.authenticated.create({
    productId: basic.id, currency: "USD", buyerIdentity: config.buyer,
    successUrl: config.successUrl,
  });
  return { store, basic, plus, group, webhook, link };
}

function customerOf(token) {
  return client.customer(token, { environment: "test" });
}

async function lifecycleCustomer() {
  // The clock moved a month: the link's token has expired, so the merchant issues a new one.
  const { token } = await client.auth.issueSessionToken({ storeId: config.storeId, buyerIdentity: config.buyer });
  const customer = customerOf(token);
  const mine = await customer.graphql.query({ query: "query { subscriptionOrders { id status } }" });
  const orderId = mine.data.subscriptionOrders[0].id;
  const canceling = await customer.cancelSubscription({ orderId });
  const reactivated = await customer.reactivateSubscription({ orderId });
  const change = await customer.createPlanChangeSession({
    originOrderId: orderId, productId: config.plusId, currency: "USD",
  });
  return { token, mine, orderId, canceling, reactivated, change };
}

async function lifecycleRefund() {
  const customer = customerOf(config.token);
  const before = await client.graphql.query({
    query: `query ($id: ID!) { subscriptionOrder(id: $id) { payments { id status } } }`,
    variables: { id: config.orderId },
  });
  const renewal = before.data.subscriptionOrder.payments[1];
  const { ticket } = await customer.createRefundTicket({
    paymentId: renewal.id, reason: "Charged while on holiday",
    requestedAmount: { amount: "2.00", currency: "USD" },
  });
  const approved = await (await fetch(`${config.controlUrl}/_mock/waffo/refund-tickets/${ticket.id}/approve`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
  })).json();
  return { renewal, ticket, approved };
}

async function lifecycleReadback() {
  const merchantView = await client.graphql.query({
    query: `query ($id: ID!) {
      subscriptionOrder(id: $id) {
        id status billingPeriod currentPeriodStart currentPeriodEnd canceledAt
        subscriptionProduct { id name }
        payments { id status refundStatus snapshotAmountDetails { total phase } }
      }
    }`,
    variables: { id: config.orderId },
  });
  const buyerView = await customerOf(config.token).graphql.query({
    query: "query { subscriptionOrders { id status } refundTickets { id status } }",
  });
  const events = config.received.map(({ body, signature }) => client.webhooks.verify(body, signature));
  return { merchantView, buyerView, events };
}

// Webhook deliveries the Python test collected, each checked by the SDK's own verify().
async function verifyAll() {
  return config.received.map(({ body, signature }) => {
    try {
      return { ok: true, event: client.webhooks.verify(body, signature) };
    } catch (err) {
      return { ok: false, error: String(err) };
    }
  });
}

const [step, ...args] = process.argv.slice(2);
const steps = {
  checkout, catalog, cancel: () => cancel(...args), lifecycleSetup, lifecycleCustomer,
  lifecycleRefund, lifecycleReadback, verifyAll,
};
const output = await steps[step]();
process.stdout.write(JSON.stringify(output));
