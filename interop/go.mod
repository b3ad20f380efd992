module github.com/wcdl/wcdl/interop

go 1.26.0

replace github.com/wcdl/wcdl => ../

require github.com/wcdl/wcdl v0.0.0-00010101000000-000000000000

require (
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/paulmach/orb v0.14.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)
