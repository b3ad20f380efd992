// Package azsource tests wcdl's Planetary Computer source layout and Azure's
// Content-MD5 check against Azure's storage emulator, Azurite, on
// loopback: a public container laid out as the Planetary Computer's.
package azsource
