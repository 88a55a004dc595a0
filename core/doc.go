// Package core holds the vocabulary every part of the gateway shares: the
// normalised inbound and outgoing messages, the opaque platform ids, and the
// interface a messenger adapter implements. It imports only the standard
// library, so adapters, the REST API and the concept packages below core can
// all depend on it.
package core
