/**
 * The Twilio simulator: a fake Twilio Messaging REST API written from the provider docs
 * (/work/shared/providers/twilio.md), never from wagate's Twilio adapter.
 */
export { createTwilioSimulator, type TwilioSimulator, type TwilioSimulatorOptions } from './simulator.js'
export { type TwilioSimAccount } from './accounts.js'
export { twilioSignature } from './signature.js'
export { whatsAppIdOf } from './inbound.js'
