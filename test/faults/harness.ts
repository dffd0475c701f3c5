/**
 * Fault-test harness: real gateway processes (`node --import tsx src/cli.ts serve`), the Meta
 * simulator in its own process driven through its `/_sim/*` routes, and helpers to poll both over
 * HTTP. Split in three: util.ts (HTTP, polling, arithmetic), processes.ts (children),
 * messages.ts (accounts and messages through the API); tests import everything from here.
 *
 * @example
 * const sim = await startSimulator()
 * const gw = await startGatewayProcess({ shared: sharedSettings(), dataDir })
 * const acct = await createMetaAccount(gw, sim, { name: 'f1', rateLimit: 400 })
 * const ids = await sendMany(gw, 100, (i) => ({ account: acct.name, to: recipient(i), type: 'text', text: `m${i}` }))
 * await gw.kill9()
 */
export * from './util.js'
export * from './processes.js'
export * from './messages.js'
