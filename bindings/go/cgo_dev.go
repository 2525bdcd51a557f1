//go:build httpx_dev

package httpx

// In-repo development build (go build -tags httpx_dev): the header from
// <repo>/include and libhttpx.so from <repo>/target/release (cargo build
// --release), found at run time through an rpath, so LD_LIBRARY_PATH is not
// needed. CGO_CFLAGS / CGO_LDFLAGS add to these flags.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -Wl,-rpath,${SRCDIR}/../../target/release -lhttpx
*/
import "C"
