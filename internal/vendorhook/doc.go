// Package vendorhook reads what dialers and note-takers post to Logbook's
// inbound hooks: it checks each vendor's signature scheme (Twilio's
// X-Twilio-Signature, Aircall's token, Standard Webhooks as Recall.ai signs,
// Zoom's x-zm-signature) and turns each vendor's documented payload into a
// plain value the API maps to activities or to pull work. Pure and
// stdlib-only, so every parser can be fuzzed.
package vendorhook
