// Package archtest holds the tests of the tree's structure that a newcomer
// can run: the production commands (poller, normalizer, sink) link no
// sandbox or test-support package, and nothing under pkg/ imports the
// module's internal/ packages (pkg/ is the library users import; internal/
// may import pkg/, never the other way round). It has no code of its own.
package archtest
