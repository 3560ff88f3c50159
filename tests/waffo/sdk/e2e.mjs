// Drives the official @waffo/pancake-ts SDK against paymock, pointed at it by baseUrl only.
// Usage: node e2e.mjs checkout | node e2e.mjs cancel <token> <orderId>
// Config comes from PAYMOCK_WAFFO (JSON: baseUrl, merchantId, privateKey, productId, storeId).
// Prints one JSON document; pytest compares it with the server's state.
import { WaffoPancake, WaffoPancakeError } from "@waffo/pancake-ts";

const config = JSON.parse(process.env.PAYMOCK_WAFFO);
const client = new WaffoPancake({
  merchantId: config.merchantId,
  privateKey: config.privateKey,
  baseUrl: config.baseUrl,
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

const [step, ...args] = process.argv.slice(2);
const output = step === "checkout" ? await checkout() : await cancel(...args);
process.stdout.write(JSON.stringify(output));
