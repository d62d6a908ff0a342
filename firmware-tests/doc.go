// Package firmwaretests proves that real devices work against Apiary
// unmodified: each test behaves on the wire the way one firmware or client
// does (its QoS, retain flag, session, client id style, serialisation,
// HTTP method and headers) and checks what the beekeeper would see in the
// export API, on every transport the device uses.
package firmwaretests
