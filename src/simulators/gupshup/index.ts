export { createGupshupSimulator } from './simulator.js'
export type { GupshupSentMessage, GupshupSimApp, GupshupSimulator, GupshupSimulatorOptions, GupshupStatusTimings } from './types.js'
export { GUPSHUP_ERRORS } from './wire.js'
export { whatsappIdFor } from './numbers.js'
