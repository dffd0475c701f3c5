export { createSinchSimulator } from './simulator.js'
export { signSinchCallback, sinchSignatureHeaders } from './signature.js'
export { whatsappIdentity } from './identity.js'
export type { SinchSimApp, SinchSimulator, SinchSimulatorOptions, SinchSimulatorStats } from './types.js'
