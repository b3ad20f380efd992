module github.com/wcdl/wcdl/interop

go 1.26.0

replace github.com/wcdl/wcdl => ../
