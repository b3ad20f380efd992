// Package blobfake checks the fake Blob container of downloader/blobtest
// against Azure's storage emulator, Azurite, on loopback: the same
// requests, with the same SAS tokens, must get the same status codes,
// error codes and headers from both.
package blobfake
