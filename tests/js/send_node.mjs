// Sends events of every call type through the unmodified @segment/analytics-node, pointed at
// the collector by its `host` option, then prints what it sent as one JSON line.
//
//   COLLECTOR_URL=http://127.0.0.1:8080 WRITE_KEY=… COUNT=1000 node send_node.mjs
//
// Every message carries `properties.seq` / `traits.seq` (or the seq in its ids) so the test can
// find each one in shared_events and check it landed exactly once.
import { Analytics } from '@segment/analytics-node'

const host = process.env.COLLECTOR_URL
const writeKey = process.env.WRITE_KEY
const count = Number(process.env.COUNT || '600')
const run = process.env.RUN_ID || 'run'
if (!host || !writeKey) {
  console.error('COLLECTOR_URL and WRITE_KEY are required')
  process.exit(2)
}

const analytics = new Analytics({ writeKey, host, flushAt: 100, flushInterval: 200 })
const failures = []
analytics.on('error', (err) => failures.push(String(err && err.reason ? err.reason : err)))

const campaign = { source: 'tiktok', medium: 'paid', name: 'spring', content: 'ad_42' }
const sent = { track: 0, page: 0, screen: 0, identify: 0, group: 0, alias: 0 }
for (let seq = 0; seq < count; seq++) {
  const userId = `${run}-user-${seq % 50}`
  const anonymousId = `${run}-anon-${seq}`
  const context = { campaign, locale: 'en-US' }
  switch (seq % 6) {
    case 0:
      analytics.track({
        userId,
        event: 'Order Completed',
        properties: { seq, revenue: 9.5, currency: 'USD', tags: ['a', 'b'] },
        context,
        timestamp: new Date(Date.now() - 60_000),
      })
      sent.track++
      break
    case 1:
      analytics.page({ anonymousId, name: 'Pricing', category: 'Docs', properties: { seq }, context })
      sent.page++
      break
    case 2:
      analytics.screen({ userId, name: 'Home', properties: { seq }, context })
      sent.screen++
      break
    case 3:
      analytics.identify({ userId, anonymousId, traits: { seq, email: `${userId}@example.com` } })
      sent.identify++
      break
    case 4:
      analytics.group({ userId, groupId: `${run}-org-${seq}`, traits: { seq, plan: 'team' } })
      sent.group++
      break
    default:
      analytics.alias({ userId, previousId: anonymousId })
      sent.alias++
  }
}
await analytics.closeAndFlush({ timeout: 60_000 })
console.log(JSON.stringify({ sent, failures }))
