//go:build !httpx_dev

package httpx

// Installed libhttpx (the default): the compiler and linker flags come from
// pkg-config's httpx.pc (PKG_CONFIG_PATH finds a non-default prefix).

/*
#cgo pkg-config: httpx
*/
import "C"
