module libhttpx/bindings/go

go 1.21
