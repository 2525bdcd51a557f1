module libhttpx.org/go/httpx

go 1.21
