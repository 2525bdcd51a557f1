module example.com/httpx-consumer

go 1.21

require libhttpx.org/go/httpx v0.0.0

// Inside the libhttpx repository the binding is the directory above; a
// project outside drops this line and requires a released version.
replace libhttpx.org/go/httpx => ../
