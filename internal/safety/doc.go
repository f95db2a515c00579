// Package safety finds what a meeting's notes must not carry to a customer
// unreviewed: payment and money-movement instructions (bank accounts,
// IBANs, routing details, cards, crypto wallets, gift cards, changed bank
// details, wires and transfers), credentials (passwords, one-time codes,
// API keys and tokens, "log in with …") and links to places outside the
// org's own and its customers' domains.
//
// It is a method, not a list of bad sentences. A text is first brought to
// one canonical form (Normalize): HTML entities decoded, tags and markdown
// links reduced to their text and their targets, zero-width and other
// format characters removed, fullwidth, mathematical, superscript and
// other-script digits folded to ASCII (NFKC-like), Latin accents stripped,
// Cyrillic and Greek look-alike letters mapped to the Latin letters they
// imitate, letter-spaced words ("w i r e") and spelled-out domains
// ("pay-acme dot com") joined again. Then three kinds of evidence are read
// from it:
//
//   - shapes with a checksum or a syntax: IBANs (ISO 13616 mod-97), card
//     numbers (Luhn), crypto wallet addresses, URLs and bare domains, secret
//     key and token formats;
//   - digit groups next to an account word (an account number, also when
//     masked: "9911-…", "****1234");
//   - a small vocabulary of payment and credential concepts in English,
//     Spanish, French, German and Portuguese (verbs of moving money, nouns
//     of where money goes, words of change, credential nouns, verbs of
//     sharing), combined by rules: a payment verb with a destination or an
//     amount, a payment word with a word of change and a destination, a
//     credential noun with a verb of sharing or a value.
//
// Each finding carries a code (CodePayment, CodeCredential, CodeLink), a
// human reason and a canonical value (the account digits, the host, the
// rule), so a draft written from reviewed items can be told apart from one
// that adds a new account number or link. The package is deterministic,
// holds no state and uses the standard library only.
package safety
