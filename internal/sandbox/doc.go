// Package sandbox is yongjin's vendor sandbox core: a virtual clock, a seeded
// order generator whose orders move through their life cycle as the clock
// advances, ground truth computed directly from that model, deterministic
// fault injection, and an HTTP server that mounts vendor protocol handlers at
// their real paths next to admin endpoints under /_sandbox/.
//
// The package is vendor-neutral. A vendor protocol (e.g. the veapi douke
// kol_OrderAds endpoint in internal/sandbox/douke, one subpackage per vendor
// beside this one) implements VendorHandler, reads
// its accounts' orders through Env and Book, and renders them in its own wire
// format. Ground truth (Model.Truth, Server.Truth) never goes through a vendor
// rendering or through yongjin's normalizer: it is summed from the model.
// The pieces every vendor protocol shares live here (vendorkit.go):
// NewServer(cfg, handlers...), Env.AdmitMethod, WriteJSON,
// Account.HasCredential with AccountByCredential and BookByCredential, and
// the Mix64 mixer.
//
// Everything is deterministic: the same Config (seed included) always yields
// the same orders, the same schedules, the same fault decisions for the same
// request sequence and therefore the same response bytes.
package sandbox
